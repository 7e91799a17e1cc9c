// The flow decider keeps what it derives from a run's state between
// decisions and updates it from the new events only. Here every decision of
// recorded runs is made again three ways and must come out the same, to the
// byte: by one state fed the events as the decider is (incremental), by that
// state with its cache dropped before each decision (everything derived
// again), and by a fresh state fed the whole history up to the decision (a
// decider that restarted, or a run out of its cache). The open counts the
// state keeps are checked against its records on the way.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cctype>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "garcon/activity_execution.h"
#include "garcon/decider.h"
#include "garcon/testing.h"
#include "testing/order.h"

namespace garcon {
namespace {

using namespace std::chrono_literals;
using testing::FlowTest;
using testing::RunResult;

// Every decision point of `history` (after each DecisionTaskStarted), decided
// the three ways (the two slower ones at every `every`th point only); returns
// how many points there were.
int ExpectSameDecisions(const Flow& flow, const std::vector<Json>& history,
                        const ExecutionRef& run, int every = 1) {
  HistoryState incremental;
  HistoryState recompute;
  int points = 0;
  for (std::size_t i = 0; i < history.size(); ++i) {
    incremental.Apply(history[i]);
    recompute.Apply(history[i]);
    if (history[i].value("eventType", "") != "DecisionTaskStarted") continue;
    ++points;
    const std::vector<Json> decided = Decide(flow, incremental, run);
    if (points % every != 0) continue;
    // The open counts the state keeps are its records' (the 1,000-open window).
    std::size_t open_activities = 0;
    std::size_t open_children = 0;
    for (const auto& entry : incremental.activities()) {
      if (entry.second.status != ActivityRecord::Status::kScheduled) continue;
      ++(entry.second.child ? open_children : open_activities);
    }
    EXPECT_EQ(incremental.open_activities(), open_activities) << "at event " << i + 1;
    EXPECT_EQ(incremental.open_children(), open_children) << "at event " << i + 1;
    recompute.set_flow_cache(nullptr);
    EXPECT_EQ(Json(Decide(flow, recompute, run)), Json(decided))
        << "derived again at event " << i + 1;
    HistoryState fresh;
    for (std::size_t j = 0; j <= i; ++j) fresh.Apply(history[j]);
    EXPECT_EQ(Json(Decide(flow, fresh, run)), Json(decided)) << "replayed at event " << i + 1;
    // A copy does not share the cache: it decides the same on its own.
    const HistoryState copy = incremental;
    EXPECT_EQ(Json(Decide(flow, copy, run)), Json(decided)) << "copied at event " << i + 1;
  }
  return points;
}

int ExpectSameDecisions(const Flow& flow, const RunResult& run) {
  const int points =
      ExpectSameDecisions(flow, run.history, {flow.domain(), run.workflow_id, run.run_id});
  // And the recorded decisions are the ones the flow makes now.
  const auto replay = testing::Replay(flow, run.HistoryJson(),
                                      {flow.domain(), run.workflow_id, run.run_id});
  EXPECT_TRUE(replay.ok) << replay.divergence;
  return points;
}

std::vector<Context> Items(int count) {
  std::vector<Context> out;
  for (int i = 0; i < count; ++i) out.push_back({{"generator.item", i}});
  return out;
}

Runner ItemRunner() {
  return Sync(Task([](ActivityExecution&, int) {}).Fill("generator.item"));
}

TEST(IncrementalDecider, AFanOutWithRetriesAndBackoffTimers) {
  Flow flow("dev", "fan");
  auto& start = flow.Activity("start").Run(Sync(test::Returns({{"count", 30}})));
  RetryPolicy backoff;
  backoff.retries = 2;
  backoff.initial_interval = 10s;
  backoff.jitter = 0.5;
  auto& items = flow.Activity("item")
                    .Requires({&start})
                    .Generator([](const Context& c) { return Items(c.value("count", 0)); })
                    .Retry(backoff)
                    .Run(ItemRunner());
  flow.Activity("end").Requires({&items}).Run(Sync(test::Returns({{"end", true}})));
  FlowTest t(flow);
  t.Fake("item", [](const Context& input, int attempt) -> Context {
    const int item = input.value("generator.item", -1);
    if (item % 3 == 0 && attempt == 1) throw std::runtime_error("flaky " + std::to_string(item));
    if (item % 7 == 0 && attempt < 3) throw std::runtime_error("flakier");
    return {{"item." + std::to_string(item), attempt}};
  });
  const RunResult run = t.Run();
  ASSERT_EQ(run.close_status, "COMPLETED") << run.reason;
  EXPECT_EQ(run.result["item.21"], 3);
  EXPECT_GT(run.Attempts("item"), 40);
  EXPECT_GT(ExpectSameDecisions(flow, run), 30);
}

TEST(IncrementalDecider, AMaxConcurrentWindowOverAFanOut) {
  Flow flow("dev", "window");
  auto& items = flow.Activity("item")
                    .Generator([](const Context&) { return Items(40); })
                    .MaxConcurrent(5)
                    .Retry(1)
                    .Run(ItemRunner());
  flow.Activity("end").Requires({&items}).Run(Sync(test::Returns({{"end", true}})));
  FlowTest t(flow);
  t.Fake("item", [](const Context& input, int attempt) -> Context {
    const int item = input.value("generator.item", -1);
    if (item % 4 == 1 && attempt == 1) throw std::runtime_error("again");
    return {{"item." + std::to_string(item), true}};
  });
  const RunResult run = t.Run();
  ASSERT_EQ(run.close_status, "COMPLETED") << run.reason;
  EXPECT_EQ(run.Attempts("item"), 50);
  EXPECT_GT(ExpectSameDecisions(flow, run), 40);
}

TEST(IncrementalDecider, InstancesGivenUpWithinTheAllowanceAndAfterThem) {
  Flow flow("dev", "partial");
  auto& items = flow.Activity("item")
                    .Generator([](const Context&) { return Items(12); })
                    .AllowFailures(3)
                    .Retry(1)
                    .Run(ItemRunner());
  auto& hint = flow.Activity("hint").Optional().Run(Sync(test::Returns({{"hint", 1}})));
  // One instance per failed item: its generator reads `item.failed`.
  flow.Activity("redo")
      .Requires({&items, &hint})
      .Generator([](const Context& c) {
        std::vector<Context> out;
        for (const Json& f : c.value("item.failed", Json::array())) {
          out.push_back({{"generator.redo", f.at("values").at("generator.item")}});
        }
        return out;
      })
      .Run(Sync(Task([](ActivityExecution&, int) {}).Fill("generator.redo")));
  FlowTest t(flow);
  t.Fake("item", [](const Context& input, int) -> Context {
    const int item = input.value("generator.item", -1);
    if (item == 2 || item == 9) throw std::runtime_error("item " + std::to_string(item) + " is bad");
    return {{"item." + std::to_string(item), true}};
  });
  t.Fake("hint", [](const Context&, int) -> Context { throw std::runtime_error("no hint"); });
  t.Fake("redo", [](const Context& input, int) -> Context {
    return {{"redone." + std::to_string(input.value("generator.redo", -1)), true}};
  });
  const RunResult run = t.Run();
  ASSERT_EQ(run.close_status, "COMPLETED") << run.reason;
  EXPECT_EQ(run.result["item.failed"].size(), 2u);
  EXPECT_EQ(run.result["hint.failed"].size(), 1u);
  EXPECT_EQ(run.result["redone.2"], true);
  EXPECT_EQ(run.result["redone.9"], true);
  EXPECT_GT(ExpectSameDecisions(flow, run), 5);

  // One failure more than allowed fails the run, the same way each time.
  FlowTest worse(flow);
  worse.Fake("item", [](const Context& input, int) -> Context {
    if (input.value("generator.item", -1) < 4) throw std::runtime_error("bad");
    return Context::object();
  });
  const RunResult failed = worse.Run();
  ASSERT_EQ(failed.close_status, "FAILED");
  EXPECT_THAT(failed.reason, ::testing::HasSubstr("(4 of 12 instances failed; 3 allowed)"));
  ExpectSameDecisions(flow, failed);
}

TEST(IncrementalDecider, SignalsDelaysAndAGeneratorOverASignalsInput) {
  Flow flow("dev", "signals");
  auto& first = flow.Activity("first").Run(Sync(test::Returns({{"first", true}})));
  // Its instances come from the signal's input.
  auto& batch = flow.Activity("batch")
                    .Requires({&first})
                    .AwaitSignal("batch")
                    .Generator([](const Context& c) {
                      std::vector<Context> out;
                      for (const Json& v : c.value("items", Json::array())) {
                        out.push_back({{"generator.item", v}});
                      }
                      return out;
                    })
                    .Run(ItemRunner());
  flow.Activity("later").Requires({&batch}).After(1h).Run(Sync(test::Returns({{"later", 1}})));
  FlowTest t(flow);
  t.Fake("batch", [](const Context& input, int) -> Context {
    return {{"batch." + std::to_string(input.value("generator.item", -1)), true}};
  });
  t.Signal("batch", {{"items", {4, 5, 6}}}, 30min);
  const RunResult run = t.Run();
  ASSERT_EQ(run.close_status, "COMPLETED") << run.reason << run.waiting;
  EXPECT_EQ(run.result["batch.5"], true);
  EXPECT_EQ(run.result["later"], 1);
  EXPECT_GT(ExpectSameDecisions(flow, run), 3);
}

TEST(IncrementalDecider, ChildFlowsSignalsBackoffAndAnOptionalActivity) {
  test::OrderFlows flows;
  FlowTest t(flows.order);
  t.Fake("reserve", [](const Context&, int attempt) -> Context {
    if (attempt < 3) throw std::runtime_error("inventory down");
    return {{"reserved", 3}};
  });
  t.Fake("notify", [](const Context&, int) -> Context { throw std::runtime_error("mail down"); });
  t.Signal("approved", {{"approver", "ana"}}, 2h);
  const RunResult run = t.Run({{"amount", 12.5}});
  ASSERT_EQ(run.close_status, "COMPLETED") << run.reason;
  EXPECT_EQ(run.result["boxes"], 2);
  EXPECT_GT(ExpectSameDecisions(flows.order, run), 5);
}

TEST(IncrementalDecider, ACancellationInTheMiddleOfAFanOut) {
  Flow flow("dev", "cancel");
  auto& items = flow.Activity("item")
                    .Generator([](const Context&) { return Items(20); })
                    .MaxConcurrent(4)
                    .Run(ItemRunner());
  flow.Activity("end").Requires({&items}).Run(Sync(test::Returns({{"end", true}})));
  FlowTest t(flow);
  const RunResult run = t.Run();
  ASSERT_EQ(run.close_status, "COMPLETED") << run.reason;
  // The same run, cut after some instances completed while others were
  // open, then asked to cancel.
  std::vector<Json> history;
  int completed = 0;
  for (const Json& event : run.history) {
    history.push_back(event);
    if (event.value("eventType", "") == "ActivityTaskCompleted" && ++completed == 9) break;
  }
  const auto add = [&history](const std::string& type, Json attributes) {
    std::string key = type;
    key[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(key[0])));
    const auto id = static_cast<std::int64_t>(history.size()) + 1;
    history.push_back({{"eventId", id},
                       {"eventTimestamp", history.back().value("eventTimestamp", 0.0)},
                       {"eventType", type},
                       {key + "EventAttributes", std::move(attributes)}});
    return id;
  };
  add("WorkflowExecutionCancelRequested", Json::object());
  const auto scheduled = add("DecisionTaskScheduled", {{"taskList", {{"name", flow.task_list()}}}});
  add("DecisionTaskStarted", {{"scheduledEventId", scheduled}});
  const ExecutionRef ref{flow.domain(), run.workflow_id, run.run_id};
  EXPECT_GT(ExpectSameDecisions(flow, history, ref), 5);
  HistoryState state;
  for (const Json& event : history) state.Apply(event);
  const std::vector<Json> decisions = Decide(flow, state, ref);
  ASSERT_FALSE(decisions.empty());
  for (const Json& d : decisions) {
    EXPECT_EQ(d.value("decisionType", ""), "RequestCancelActivityTask") << d.dump();
  }
}

TEST(IncrementalDecider, ALargeFanOutPastTheOpenActivityLimit) {
  Flow flow("dev", "large");
  auto& items = flow.Activity("item")
                    .Generator([](const Context&) { return Items(1200); })
                    .Run(ItemRunner());
  flow.Activity("end").Requires({&items}).Run(Sync(test::Returns({{"end", true}})));
  FlowTest t(flow);
  t.Fake("item", [](const Context& input, int) -> Context {
    return {{"item." + std::to_string(input.value("generator.item", -1)), true}};
  });
  const RunResult run = t.Run();
  ASSERT_EQ(run.close_status, "COMPLETED") << run.reason;
  EXPECT_EQ(run.Attempts("item"), 1200);
  // The first decision opens 1,000 (SWF's limit), the rest as they close.
  std::int64_t first_completed = 0;
  for (const Json& e : run.history) {
    if (e.value("eventType", "") != "DecisionTaskCompleted") continue;
    first_completed = e.value("eventId", std::int64_t{0});
    break;
  }
  int first_decision = 0;
  for (const Json& e : run.history) {
    if (e.value("eventType", "") == "ActivityTaskScheduled" &&
        EventAttributes(e).value("decisionTaskCompletedEventId", std::int64_t{0}) ==
            first_completed) {
      ++first_decision;
    }
  }
  EXPECT_EQ(first_decision, 1000);
  EXPECT_GT(ExpectSameDecisions(flow, run.history, {flow.domain(), run.workflow_id, run.run_id},
                                100),
            200);
}

TEST(IncrementalDecider, AGeneratorIsCalledOnceItsRequirementsAreComplete) {
  Flow flow("dev", "once");
  auto& start = flow.Activity("start").Run(Sync(test::Returns({{"count", 6}})));
  int calls = 0;
  auto& items = flow.Activity("item")
                    .Requires({&start})
                    .Generator([&calls](const Context& c) {
                      ++calls;
                      // Throws while `start` has not completed.
                      return Items(c.at("count").get<int>());
                    })
                    .Run(ItemRunner());
  flow.Activity("end").Requires({&items}).Run(Sync(test::Returns({{"end", true}})));
  FlowTest t(flow);
  const RunResult run = t.Run();
  ASSERT_EQ(run.close_status, "COMPLETED") << run.reason;
  EXPECT_EQ(run.Attempts("item"), 6);
  EXPECT_EQ(calls, 1);  // not once per decision
  EXPECT_GT(ExpectSameDecisions(flow, run), 6);
}

TEST(IncrementalDecider, AnEmptyGeneratorIsCompleteOnlyOnceItsRequirementsAre) {
  Flow flow("dev", "empty");
  auto& first = flow.Activity("first").Run(Sync(test::Returns({{"first", true}})));
  auto& none = flow.Activity("none")
                   .Requires({&first})
                   .Generator([](const Context&) { return std::vector<Context>{}; })
                   .Run(ItemRunner());
  flow.Activity("last").Requires({&none}).Run(Sync(test::Returns({{"last", true}})));
  FlowTest t(flow);
  const RunResult run = t.Run();
  ASSERT_EQ(run.close_status, "COMPLETED") << run.reason;
  std::vector<std::string> order;
  for (const Json& e : run.history) {
    const std::string type = e.value("eventType", "");
    if (type == "ActivityTaskScheduled") {
      order.push_back("scheduled " + EventAttributes(e).value("activityId", ""));
    } else if (type == "ActivityTaskCompleted") {
      order.push_back("completed");
    }
  }
  EXPECT_THAT(order, ::testing::ElementsAre("scheduled empty_first-1", "completed",
                                            "scheduled empty_last-1", "completed"));
  EXPECT_GT(ExpectSameDecisions(flow, run), 2);
}

}  // namespace
}  // namespace garcon
