// Task(fn, keys...) with one key too many: the count is known at compile time.
#include <garcon/garcon.h>

namespace {
garcon::Context Greet(garcon::ActivityExecution&, int id) { return {{"greeted", id}}; }
}  // namespace

garcon::Task GreetTask() {
#ifdef GARCON_MISUSE
  return garcon::Task(Greet, "generator.id", "generator.name");
#else
  return garcon::Task(Greet, "generator.id");
#endif
}
