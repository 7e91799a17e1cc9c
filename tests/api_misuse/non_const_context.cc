// A task that takes the context by non-const reference to change it.
#include <garcon/garcon.h>

garcon::Runner Runner() {
#ifdef GARCON_MISUSE
  return garcon::Sync(
      [](garcon::ActivityExecution&, garcon::Context& context) { context["done"] = true; });
#else
  return garcon::Sync([](garcon::ActivityExecution&, const garcon::Context& context) {
    return garcon::Context{{"done", context.contains("input")}};
  });
#endif
}
