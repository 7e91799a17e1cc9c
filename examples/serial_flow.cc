// The seed's serial activity execution: a_tasks returns a value that
// b_tasks and c_tasks then find in their context.
#include "garcon/garcon.h"

using garcon::ActivityExecution;
using garcon::Context;

int main(int argc, char** argv) {
  garcon::Flow flow("dev", "serial_flow");
  auto& a = flow.Activity("a_tasks").Run(garcon::Sync([](ActivityExecution&, const Context&) {
    return Context{{"result", "Now don't be givin him sambuca!"}};
  }));
  // A task filled from the context: it receives the value of "result".
  auto saw = [](const std::string& who) {
    return garcon::Task(
        [who](ActivityExecution& activity, std::string result) -> Context {
          activity.logger()->info("{} sees: {}", who, result);
          return {{who + ".saw", result}};
        },
        "result");
  };
  auto& b = flow.Activity("b_tasks").Requires({&a}).Run(garcon::Sync(saw("b_tasks")));
  flow.Activity("c_tasks").Requires({&b}).Run(garcon::Sync(saw("c_tasks")));
  return garcon::Main(flow, argc, argv);
}
