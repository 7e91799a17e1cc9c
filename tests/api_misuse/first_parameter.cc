// A task without the ActivityExecution& first parameter.
#include <garcon/garcon.h>

garcon::Runner Runner() {
#ifdef GARCON_MISUSE
  return garcon::Sync([](const garcon::Context& context) { return context; });
#else
  return garcon::Sync(
      [](garcon::ActivityExecution&, const garcon::Context& context) { return context; });
#endif
}
