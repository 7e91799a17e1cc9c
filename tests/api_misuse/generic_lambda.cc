// A generic lambda as a task: its parameter types cannot be read.
#include <garcon/garcon.h>

garcon::Runner Runner() {
#ifdef GARCON_MISUSE
  return garcon::Sync([](auto& activity, const auto& context) {
    (void)activity;
    return garcon::Context{{"seen", context.size()}};
  });
#else
  return garcon::Sync([](garcon::ActivityExecution& activity, const garcon::Context& context) {
    (void)activity;
    return garcon::Context{{"seen", context.size()}};
  });
#endif
}
