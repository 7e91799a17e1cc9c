// A parameter filled from the context taken by non-const reference.
#include <garcon/garcon.h>

#include <string>

garcon::Task NameTask() {
#ifdef GARCON_MISUSE
  return garcon::Task([](garcon::ActivityExecution&, std::string& name) { name += "!"; })
      .Fill("name");
#else
  return garcon::Task([](garcon::ActivityExecution&, const std::string& name) {
           return garcon::Context{{"name", name + "!"}};
         })
      .Fill("name");
#endif
}
