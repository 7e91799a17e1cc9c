// The flow the durability benchmarks run: activity_1, then a generator of
// `count` activity_2 instances (Retry(3); one instance in 20 fails its first
// attempt unless the input says "failures": false), then activity_3, which
// counts the items' results it sees (`items_seen`). A flow
// program like the examples:
//   fanout_flow run --input '{"count": 1000}' [--db FILE] [--json]
//   fanout_flow decider|worker|start --endpoint URL ...
#include <map>
#include <mutex>
#include <stdexcept>

#include "garcon/garcon.h"

using garcon::ActivityExecution;
using garcon::Context;

namespace {

// Attempts per (run, item) in this process.
int NextAttempt(const std::string& run_id, int item) {
  static std::mutex mu;
  static std::map<std::pair<std::string, int>, int> attempts;
  std::lock_guard lock(mu);
  return ++attempts[{run_id, item}];
}

Context Item(ActivityExecution& activity, int item, bool failures) {
  if (failures && item % 20 == 7 && NextAttempt(activity.info().run_id, item) == 1) {
    throw std::runtime_error("item " + std::to_string(item) + " fails once");
  }
  return {{"item." + std::to_string(item), "done"}};
}

}  // namespace

int main(int argc, char** argv) {
  garcon::Flow flow("bench", "fanout_flow");
  auto& first = flow.Activity("activity_1").Run(garcon::Sync(
      [](ActivityExecution&, const Context&) { return Context{{"activity_1", "done"}}; }));
  auto& items = flow.Activity("activity_2")
                    .Requires({&first})
                    .Generator([](const Context& context) {
                      std::vector<Context> out;
                      const int count = context.value("count", 100);
                      const bool failures = context.value("failures", true);
                      for (int i = 0; i < count; ++i) {
                        out.push_back({{"generator.item", i}, {"generator.failures", failures}});
                      }
                      return out;
                    })
                    .Retry(3)
                    .Run(garcon::Sync(garcon::Task(Item).Fill("generator.item", "generator.failures")));
  // Counts the items' results it sees: every instance's result reaches the
  // activities after a fan-out, however large.
  flow.Activity("activity_3").Requires({&items}).Run(garcon::Sync(
      [](ActivityExecution&, const Context& context) {
        int seen = 0;
        for (const auto& item : context.items()) seen += item.key().starts_with("item.") ? 1 : 0;
        return Context{{"end", true}, {"items_seen", seen}};
      }));
  return garcon::Main(flow, argc, argv);
}
