// The flow features, each through the public API on the embedded engine with
// the test kit's fake clock (not on hand-built histories): a cancel request
// during a retry backoff, during an .After delay and with a child run open; a
// custom decider waiting on a timer and a signal; a failed child run retried
// by the parent's policy, and given up; the retry predicate and the retry
// budget; an activity result that is not a JSON object.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include "garcon/activity_execution.h"
#include "garcon/decider.h"
#include "garcon/engine.h"
#include "garcon/flow.h"
#include "garcon/testing.h"
#include "testing/order.h"

namespace garcon {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::FlowTest;
using testing::RunResult;

// The events of `history` of type `type`, in order.
std::vector<Json> Events(const std::vector<Json>& history, const std::string& type) {
  std::vector<Json> out;
  for (const Json& e : history) {
    if (e.value("eventType", "") == type) out.push_back(e);
  }
  return out;
}

std::size_t Count(const RunResult& run, const std::string& type) {
  return Events(run.history, type).size();
}

// The types of the run's events, in order, leaving out the decision tasks'
// and the graph marker: what the run did.
std::vector<std::string> Course(const std::vector<Json>& history) {
  std::vector<std::string> out;
  for (const Json& e : history) {
    const std::string type = e.value("eventType", "");
    if (type.starts_with("DecisionTask") || type == "MarkerRecorded") continue;
    out.push_back(type);
  }
  return out;
}

// Fake seconds from the run's start to `event`.
double At(const std::vector<Json>& history, const Json& event) {
  return event.value("eventTimestamp", 0.0) - history.front().value("eventTimestamp", 0.0);
}

Json Call(engine::Engine& engine, const std::string& operation, const Json& request) {
  Result<Json> r = engine.Call(operation, request);
  if (!r.ok()) throw std::runtime_error(operation + ": " + r.status().ToString());
  return *r;
}

// ---------------------------------------------------------------------------
// Cancel requests.

// `call`, retried 3 times an hour apart.
void DeclareHourlyBackoff(Flow& flow) {
  RetryPolicy hourly;
  hourly.retries = 3;
  hourly.initial_interval = 1h;
  flow.Activity("call").Retry(hourly).Run(Sync(test::Returns({{"called", true}})));
}

TEST(Features, ACancelDuringAnHourOfBackoffCancelsTheTimerAndClosesTheRun) {
  Flow flow("kit", "backoff");
  DeclareHourlyBackoff(flow);
  FlowTest t(flow);
  t.Fake("call", [](const Context&, int) -> Context { throw std::runtime_error("service down"); });
  t.Cancel(30min);
  const RunResult run = t.Run();
  ASSERT_EQ(run.close_status, "CANCELED") << run.reason << run.waiting;
  EXPECT_EQ(run.details, "cancellation requested");
  EXPECT_EQ(run.elapsed, 30min);
  EXPECT_LT(run.elapsed, 1h);
  EXPECT_EQ(run.Attempts("call"), 1) << "the second attempt never came";
  EXPECT_THAT(Course(run.history),
              ElementsAre("WorkflowExecutionStarted", "ActivityTaskScheduled",
                          "ActivityTaskStarted", "ActivityTaskFailed", "TimerStarted",
                          "WorkflowExecutionCancelRequested", "TimerCanceled",
                          "WorkflowExecutionCanceled"));
  const Json started = Events(run.history, "TimerStarted").at(0);
  const Json canceled = Events(run.history, "TimerCanceled").at(0);
  const std::string timer = EventAttributes(started).value("timerId", "");
  EXPECT_TRUE(timer.starts_with("retry-")) << timer;
  EXPECT_EQ(EventAttributes(started).value("startToFireTimeout", ""), "3600");
  EXPECT_EQ(EventAttributes(canceled).value("timerId", ""), timer);
  EXPECT_EQ(At(run.history, canceled), 1800.0);
}

TEST(Features, ACancelBeforeItIsDueIsNotSentAndTheRunGoesOn) {
  // The same flow, the cancel due after the run would have closed: the
  // backoff runs its course and the request is never sent.
  Flow flow("kit", "backoff");
  DeclareHourlyBackoff(flow);
  FlowTest t(flow);
  t.Fake("call", [](const Context&, int attempt) -> Context {
    if (attempt == 1) throw std::runtime_error("service down");
    return {{"called", attempt}};
  });
  t.Cancel(2h);
  const RunResult run = t.Run();
  ASSERT_EQ(run.close_status, "COMPLETED") << run.reason << run.waiting;
  EXPECT_EQ(run.result["called"], 2);
  EXPECT_EQ(run.elapsed, 1h);
  EXPECT_EQ(Count(run, "WorkflowExecutionCancelRequested"), 0u);
}

TEST(Features, ACancelDuringAnAfterDelayCancelsItsTimer) {
  Flow flow("kit", "delayed");
  auto& order = flow.Activity("order").Run(Sync(test::Returns({{"ordered", true}})));
  flow.Activity("ship").Requires({&order}).After(24h).Run(Sync(test::Returns({{"shipped", true}})));
  FlowTest t(flow);
  t.Cancel(2h);
  const RunResult run = t.Run();
  ASSERT_EQ(run.close_status, "CANCELED") << run.reason << run.waiting;
  EXPECT_EQ(run.details, "cancellation requested");
  EXPECT_EQ(run.elapsed, 2h);
  EXPECT_EQ(run.Attempts("order"), 1);
  EXPECT_EQ(run.Attempts("ship"), 0) << "the delay never ended";
  const auto started = Events(run.history, "TimerStarted");
  const auto canceled = Events(run.history, "TimerCanceled");
  ASSERT_EQ(started.size(), 1u);
  ASSERT_EQ(canceled.size(), 1u);
  EXPECT_EQ(EventAttributes(started[0]).value("timerId", ""), "after-ship");
  EXPECT_EQ(EventAttributes(started[0]).value("startToFireTimeout", ""), "86400");
  EXPECT_EQ(EventAttributes(canceled[0]).value("timerId", ""), "after-ship");
  EXPECT_EQ(Count(run, "TimerFired"), 0u);
  EXPECT_EQ(run.history.back().value("eventType", ""), "WorkflowExecutionCanceled");
}

TEST(Features, ACancelWithAChildRunOpenCancelsTheChildThenTheParent) {
  Flow packing("kit", "packing");
  packing.Activity("pick").After(1h).Run(Sync(test::Returns({{"picked", true}})));
  Flow order("kit", "order");
  auto& pack = order.Activity("pack").Run(Child(packing));
  order.Activity("ship").Requires({&pack}).Run(Sync(test::Returns({{"shipped", true}})));
  FlowTest t(order);
  t.Cancel(10min);
  const RunResult run = t.Run();
  ASSERT_EQ(run.close_status, "CANCELED") << run.reason << run.waiting;
  EXPECT_EQ(run.details, "cancellation requested");
  EXPECT_EQ(run.elapsed, 10min);
  EXPECT_EQ(run.Attempts("ship"), 0);
  EXPECT_THAT(Course(run.history),
              ElementsAre("WorkflowExecutionStarted", "StartChildWorkflowExecutionInitiated",
                          "ChildWorkflowExecutionStarted", "WorkflowExecutionCancelRequested",
                          "RequestCancelExternalWorkflowExecutionInitiated",
                          "ExternalWorkflowExecutionCancelRequested",
                          "ChildWorkflowExecutionCanceled", "WorkflowExecutionCanceled"));

  // The child: asked by its parent, its delay canceled, closed CANCELED.
  const Json child = EventAttributes(Events(run.history, "ChildWorkflowExecutionStarted").at(0))
                         .at("workflowExecution");
  const Json request = EventAttributes(
      Events(run.history, "RequestCancelExternalWorkflowExecutionInitiated").at(0));
  EXPECT_EQ(request.value("workflowId", ""), child.value("workflowId", ""));
  const Json info = Call(t.engine(), "DescribeWorkflowExecution",
                         {{"domain", "kit"}, {"execution", child}})["executionInfo"];
  EXPECT_EQ(info.value("executionStatus", ""), "CLOSED");
  EXPECT_EQ(info.value("closeStatus", ""), "CANCELED");
  const Json page = Call(t.engine(), "GetWorkflowExecutionHistory",
                         {{"domain", "kit"}, {"execution", child}, {"maximumPageSize", 1000}});
  const std::vector<Json> child_history = page.at("events").get<std::vector<Json>>();
  EXPECT_THAT(Course(child_history),
              ElementsAre("WorkflowExecutionStarted", "TimerStarted",
                          "WorkflowExecutionCancelRequested", "TimerCanceled",
                          "WorkflowExecutionCanceled"));
  EXPECT_EQ(EventAttributes(child_history.back()).value("details", ""),
            "cancellation requested by workflow " + run.workflow_id);
}

// ---------------------------------------------------------------------------
// A custom decider on the fake clock.

// Waits two hours (schedule.Timer) and for the signal `go`, then runs `work`
// with who sent it.
struct CustomFlow {
  Flow flow{"kit", "custom"};
  CustomFlow() {
    auto& work = flow.Activity("work").Run(Sync(test::Returns({{"worked", true}})));
    flow.Decider([&work](Schedule& schedule, const Context&) {
      const ActivityState cool = schedule.Timer("cool", 2h);
      const ActivityState go = schedule.Signal("go");
      const Context who = {{"who", go.ready() ? go.result().value("who", "") : ""}};
      schedule("w", work, {cool, go}, who).Wait();
    });
  }
};

Context WorkFor(const Context& input, int) { return {{"worked_for", input.value("who", "")}}; }

TEST(Features, ACustomDeciderWaitsForItsTimerThenItsSignal) {
  CustomFlow custom;
  FlowTest t(custom.flow);
  t.Fake("work", WorkFor);
  t.Signal("go", {{"who", "bo"}}, 3h);  // after the timer
  const RunResult run = t.Run({{"order", 7}});
  ASSERT_EQ(run.close_status, "COMPLETED") << run.reason << run.waiting;
  EXPECT_EQ(run.result["worked_for"], "bo");
  EXPECT_EQ(run.result["who"], "bo");  // the signal's input
  EXPECT_EQ(run.result["order"], 7);
  EXPECT_EQ(run.elapsed, 3h);
  EXPECT_THAT(Course(run.history),
              ElementsAre("WorkflowExecutionStarted", "TimerStarted", "TimerFired",
                          "WorkflowExecutionSignaled", "ActivityTaskScheduled",
                          "ActivityTaskStarted", "ActivityTaskCompleted",
                          "WorkflowExecutionCompleted"));
  const Json timer = Events(run.history, "TimerStarted").at(0);
  EXPECT_EQ(EventAttributes(timer).value("timerId", ""), "timer-cool");
  EXPECT_EQ(EventAttributes(timer).value("startToFireTimeout", ""), "7200");
  EXPECT_EQ(At(run.history, Events(run.history, "TimerFired").at(0)), 7200.0);
  const Json scheduled = Events(run.history, "ActivityTaskScheduled").at(0);
  EXPECT_EQ(EventAttributes(scheduled).value("activityId", ""), "custom_work-1-w");
  EXPECT_EQ(At(run.history, scheduled), 3 * 3600.0) << "scheduled once the signal came";
}

TEST(Features, ACustomDeciderWaitsForItsTimerAfterAnEarlySignal) {
  CustomFlow custom;
  FlowTest t(custom.flow);
  t.Fake("work", WorkFor);
  t.Signal("go", {{"who", "ana"}}, 30min);  // before the timer
  const RunResult run = t.Run();
  ASSERT_EQ(run.close_status, "COMPLETED") << run.reason << run.waiting;
  EXPECT_EQ(run.result["worked_for"], "ana");
  EXPECT_EQ(run.elapsed, 2h);
  EXPECT_EQ(At(run.history, Events(run.history, "ActivityTaskScheduled").at(0)), 7200.0);
}

TEST(Features, ACustomDeciderWithoutItsSignalWaitsPastItsTimer) {
  CustomFlow custom;
  FlowTest t(custom.flow);
  t.Fake("work", WorkFor);
  const RunResult run = t.Run();
  EXPECT_EQ(run.close_status, "OPEN");
  EXPECT_THAT(run.waiting, HasSubstr("signal"));
  EXPECT_EQ(run.elapsed, 2h) << "the clock jumped to the timer, then nothing was due";
  EXPECT_EQ(Count(run, "TimerFired"), 1u);
  EXPECT_EQ(run.Attempts("work"), 0);
}

// ---------------------------------------------------------------------------
// Child runs that fail.

struct ChildFlows {
  Flow packing{"kit", "packing"};
  Flow order{"kit", "order"};
  ChildFlows() {
    packing.Activity("pick").Run(Sync(test::Returns({{"picked", true}})));
    order.Activity("pack").Retry(1).Run(Child(packing));
  }
};

TEST(Features, AChildRunThatFailsIsRetriedByTheParentsPolicy) {
  ChildFlows flows;
  FlowTest t(flows.order);
  int calls = 0;
  std::vector<int> attempts;
  t.Fake("pick", [&](const Context&, int attempt) -> Context {
    attempts.push_back(attempt);
    if (++calls == 1) throw std::runtime_error("scanner jammed");
    return {{"picked", calls}};
  });
  const RunResult run = t.Run();
  ASSERT_EQ(run.close_status, "COMPLETED") << run.reason << run.waiting;
  EXPECT_EQ(run.result["picked"], 2);
  // Each child run is a new run: its activity's first attempt again.
  EXPECT_THAT(attempts, ElementsAre(1, 1));
  EXPECT_THAT(Course(run.history),
              ElementsAre("WorkflowExecutionStarted", "StartChildWorkflowExecutionInitiated",
                          "ChildWorkflowExecutionStarted", "ChildWorkflowExecutionFailed",
                          "StartChildWorkflowExecutionInitiated", "ChildWorkflowExecutionStarted",
                          "ChildWorkflowExecutionCompleted", "WorkflowExecutionCompleted"));
  const Json failed = EventAttributes(Events(run.history, "ChildWorkflowExecutionFailed").at(0));
  EXPECT_EQ(failed.value("reason", ""), "pick attempt 1 of 1: scanner jammed");
  const auto runs = Events(run.history, "ChildWorkflowExecutionStarted");
  EXPECT_NE(EventAttributes(runs[0])["workflowExecution"].value("runId", ""),
            EventAttributes(runs[1])["workflowExecution"].value("runId", ""));
  EXPECT_EQ(run.elapsed, 0s);
}

TEST(Features, AChildRunThatFailsEveryTimeFailsTheParentNamingTheChildFailure) {
  ChildFlows flows;
  FlowTest t(flows.order);
  t.Fake("pick",
         [](const Context&, int) -> Context { throw std::runtime_error("scanner jammed"); });
  const RunResult run = t.Run();
  ASSERT_EQ(run.close_status, "FAILED") << run.waiting;
  EXPECT_EQ(run.reason, "pack attempt 2 of 2: child failed: pick attempt 1 of 1: scanner jammed");
  EXPECT_EQ(Count(run, "StartChildWorkflowExecutionInitiated"), 2u);
  EXPECT_EQ(Count(run, "ChildWorkflowExecutionFailed"), 2u);
  const Json details = Json::parse(run.details, nullptr, false);
  ASSERT_TRUE(details.is_object()) << run.details;
  EXPECT_EQ(details.value("activity", ""), "pack");
  EXPECT_EQ(details.value("attempts", 0), 2);
}

// ---------------------------------------------------------------------------
// The retry predicate and the retry budget.

RetryPolicy UnlessPermanent() {
  RetryPolicy p;
  p.retries = 5;
  p.initial_interval = 10min;
  p.retryable = [](const std::string& reason, const std::string&) {
    return reason.find("permanent") == std::string::npos;
  };
  return p;
}

TEST(Features, TheRetryPredicateStopsAtAFailureItDoesNotRetry) {
  Flow flow("kit", "pay");
  flow.Activity("pay").Retry(UnlessPermanent()).Run(Sync(test::Returns({{"paid", true}})));
  FlowTest t(flow);
  t.Fake("pay", [](const Context&, int attempt) -> Context {
    if (attempt == 1) throw std::runtime_error("bank timeout");
    throw std::runtime_error("permanent: account closed");
  });
  const RunResult run = t.Run();
  ASSERT_EQ(run.close_status, "FAILED") << run.waiting;
  EXPECT_EQ(run.reason, "pay attempt 2 of 6: permanent: account closed");
  EXPECT_EQ(run.Attempts("pay"), 2) << "four retries were left";
  EXPECT_EQ(run.elapsed, 10min) << "one backoff, then no retry";
}

TEST(Features, TheRetryPredicateLetsOtherFailuresRetryWithBackoff) {
  Flow flow("kit", "pay");
  flow.Activity("pay").Retry(UnlessPermanent()).Run(Sync(test::Returns({{"paid", true}})));
  FlowTest t(flow);
  t.Fake("pay", [](const Context&, int attempt) -> Context {
    if (attempt < 3) throw std::runtime_error("bank timeout");
    return {{"paid", attempt}};
  });
  const RunResult run = t.Run();
  ASSERT_EQ(run.close_status, "COMPLETED") << run.reason << run.waiting;
  EXPECT_EQ(run.result["paid"], 3);
  EXPECT_EQ(run.elapsed, 30min) << "10 min, then 20";
}

TEST(Features, TheRetryBudgetEndsRetriesOnTheFakeClock) {
  Flow flow("kit", "pay");
  RetryPolicy p;
  p.retries = 10;
  p.initial_interval = 1h;
  p.multiplier = 2;
  p.budget = 4h;
  flow.Activity("pay").Retry(p).Run(Sync(test::Returns({{"paid", true}})));
  FlowTest t(flow);
  t.Fake("pay", [](const Context&, int) -> Context { throw std::runtime_error("down"); });
  const RunResult run = t.Run();
  ASSERT_EQ(run.close_status, "FAILED") << run.waiting;
  // Attempts at 0, 1 h and 3 h; the next would start at 7 h, past 4 h.
  EXPECT_EQ(run.reason, "pay attempt 3 of 11: retry budget of 14400 s spent: down");
  EXPECT_EQ(run.Attempts("pay"), 3);
  EXPECT_EQ(run.elapsed, 3h);
  std::vector<double> scheduled_at;
  for (const Json& e : Events(run.history, "ActivityTaskScheduled")) {
    scheduled_at.push_back(At(run.history, e));
  }
  EXPECT_THAT(scheduled_at, ElementsAre(0.0, 3600.0, 3 * 3600.0));
}

// ---------------------------------------------------------------------------
// A result that is not a JSON object.

TEST(Features, AResultThatIsNotAJsonObjectFailsTheAttemptAndTheRun) {
  Flow flow("kit", "listing");
  flow.Activity("list").Run(Sync(test::Returns({{"listed", true}})));
  FlowTest t(flow);
  t.Fake("list", [](const Context&, int) -> Context { return Json::array({1, 2, 3}); });
  const RunResult run = t.Run();
  ASSERT_EQ(run.close_status, "FAILED") << run.waiting;
  EXPECT_EQ(run.reason, "list attempt 1 of 1: the result is not a JSON object");
  // The task completed, with what it returned; the decider refused it.
  const Json completed = EventAttributes(Events(run.history, "ActivityTaskCompleted").at(0));
  EXPECT_EQ(completed.value("result", ""), "[1,2,3]");
  const Json details = Json::parse(run.details, nullptr, false);
  ASSERT_TRUE(details.is_object()) << run.details;
  EXPECT_EQ(details.value("details", ""), "[1,2,3]");
}

TEST(Features, AResultThatIsNotAJsonObjectIsRetriedLikeAFailure) {
  Flow flow("kit", "listing");
  flow.Activity("list").Retry(1).Run(Sync(test::Returns({{"listed", true}})));
  FlowTest t(flow);
  t.Fake("list", [](const Context&, int attempt) -> Context {
    if (attempt == 1) return Json::array({1, 2, 3});
    return {{"listed", attempt}};
  });
  const RunResult run = t.Run();
  ASSERT_EQ(run.close_status, "COMPLETED") << run.reason << run.waiting;
  EXPECT_EQ(run.result["listed"], 2);
  EXPECT_EQ(run.Attempts("list"), 2);
}

}  // namespace
}  // namespace garcon
