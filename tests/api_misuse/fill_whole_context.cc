// Task(fn, keys...) on a task of the whole context: nothing to fill.
#include <garcon/garcon.h>

namespace {
garcon::Context Count(garcon::ActivityExecution&, const garcon::Context& context) {
  return {{"count", context.size()}};
}
}  // namespace

garcon::Task CountTask() {
#ifdef GARCON_MISUSE
  return garcon::Task(Count, "items");
#else
  return garcon::Task(Count).Reads({"items"});
#endif
}
