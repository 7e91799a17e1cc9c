// The seed's code sample: activity_1, then activity_2 (two tasks in
// parallel) and activity_3 side by side, then activity_4 once both are done.
#include <iostream>

#include "garcon/garcon.h"

using garcon::ActivityExecution;
using garcon::Context;

namespace {

// A task that says where it ran and records that it did.
garcon::Task Step(std::string name) {
  return garcon::Task([name](ActivityExecution& activity, const Context&) -> Context {
    activity.logger()->info("{}", name);
    return {{name, "done"}};
  });
}

}  // namespace

int main(int argc, char** argv) {
  garcon::Flow flow("dev", "simple_flow");
  auto& first = flow.Activity("activity_1").Run(garcon::Sync(Step("activity_1")));
  auto& second = flow.Activity("activity_2")
                     .Requires({&first})
                     .Run(garcon::Async(Step("activity_2_task_1"), Step("activity_2_task_2")));
  auto& third = flow.Activity("activity_3").Requires({&first}).Run(garcon::Sync(Step("activity_3")));
  flow.Activity("activity_4").Requires({&third, &second}).Run(garcon::Sync(Step("activity_4")));
  return garcon::Main(flow, argc, argv);
}
