// Retry policies end to end on the embedded engine with a fake clock: the
// waits between attempts are SWF timers in the history, so a flow with an
// hour of backoff finishes its test at once, and an error a task marks
// NonRetryable fails the run after one attempt.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <thread>

#include "garcon/app.h"
#include "garcon/clock.h"
#include "garcon/engine.h"
#include "garcon/flow.h"

namespace garcon {
namespace {

using namespace std::chrono_literals;

std::vector<Json> History(engine::Engine& engine, const std::string& domain,
                          const RunSummary& run) {
  Result<Json> h = engine.Call("GetWorkflowExecutionHistory",
                               {{"domain", domain},
                                {"execution", {{"workflowId", run.workflow_id}, {"runId", run.run_id}}}});
  EXPECT_TRUE(h.ok());
  return h.ok() ? (*h)["events"].get<std::vector<Json>>() : std::vector<Json>{};
}

// Runs `flow` to its close; whenever the run waits on nothing but a timer,
// moves the fake clock to that timer. Returns the summary.
RunSummary RunSkippingTime(const Flow& flow, engine::Engine& engine, FakeClock& clock,
                           double* skipped_seconds) {
  RunOptions options;
  options.workflow_id = "retried";
  options.pollers = 1;
  options.release_polls = [&engine] { engine.Shutdown(); };
  auto running = std::async(std::launch::async, [&] { return RunFlow(flow, engine, options); });
  const Json describe = {{"domain", flow.domain()}, {"execution", {{"workflowId", "retried"}}}};
  while (running.wait_for(5ms) != std::future_status::ready) {
    Result<Json> list = engine.Call(
        "ListOpenWorkflowExecutions",
        {{"domain", flow.domain()}, {"startTimeFilter", {{"oldestDate", 0}}},
         {"executionFilter", {{"workflowId", "retried"}}}});
    if (!list.ok() || (*list)["executionInfos"].empty()) continue;
    const Json execution = (*list)["executionInfos"][0]["execution"];
    Result<Json> d = engine.Call("DescribeWorkflowExecution",
                                 {{"domain", flow.domain()}, {"execution", execution}});
    if (!d.ok()) continue;
    const Json& counts = (*d)["openCounts"];
    if (counts.value("openTimers", 0) > 0 && counts.value("openActivityTasks", 0) == 0 &&
        counts.value("openDecisionTasks", 0) == 0) {
      // The timer's wait, from the last TimerStarted.
      RunSummary partial;
      partial.workflow_id = "retried";
      partial.run_id = execution.value("runId", "");
      double wait = 0;
      for (const Json& e : History(engine, flow.domain(), partial)) {
        if (e["eventType"] == "TimerStarted") {
          wait = std::stod(e["timerStartedEventAttributes"]["startToFireTimeout"].get<std::string>());
        }
      }
      clock.AdvanceSeconds(wait);
      *skipped_seconds += wait;
    }
  }
  Result<RunSummary> summary = running.get();
  EXPECT_TRUE(summary.ok()) << summary.status().ToString();
  return summary.ok() ? *summary : RunSummary{};
}

TEST(RetryFlowTest, AnHourOfBackoffPassesOnAFakeClock) {
  auto clock = std::make_shared<FakeClock>();
  engine::EngineOptions options;
  options.clock = clock;
  engine::Engine engine(options);
  std::atomic<int> attempts{0};
  Flow flow("retry-domain", "retry_flow");
  RetryPolicy policy;
  policy.retries = 3;
  policy.initial_interval = 1h;
  policy.multiplier = 2;
  flow.Activity("flaky").Retry(policy).Run(Sync([&](ActivityExecution&, const Context&) {
    if (++attempts < 3) throw std::runtime_error("dependency down");
    return Context{{"flaky", "done"}};
  }));

  double skipped = 0;
  const RunSummary summary = RunSkippingTime(flow, engine, *clock, &skipped);
  EXPECT_EQ(summary.close_status, "COMPLETED") << summary.reason;
  EXPECT_EQ(summary.result.value("flaky", ""), "done");
  EXPECT_EQ(attempts.load(), 3);
  EXPECT_EQ(skipped, 3 * 3600.0);  // waited 1 h, then 2 h

  std::vector<std::string> waits;
  int fired = 0;
  for (const Json& e : History(engine, "retry-domain", summary)) {
    if (e["eventType"] == "TimerStarted") {
      waits.push_back(e["timerStartedEventAttributes"]["startToFireTimeout"]);
    }
    if (e["eventType"] == "TimerFired") ++fired;
  }
  EXPECT_THAT(waits, ::testing::ElementsAre("3600", "7200"));
  EXPECT_EQ(fired, 2);
}

TEST(RetryFlowTest, ANonRetryableErrorFailsTheRunAfterOneAttempt) {
  auto clock = std::make_shared<FakeClock>();
  engine::EngineOptions options;
  options.clock = clock;
  engine::Engine engine(options);
  std::atomic<int> attempts{0};
  Flow flow("retry-domain", "retry_flow");
  flow.Activity("charge").Retry(5).Run(Sync([&](ActivityExecution&, const Context&) -> Context {
    ++attempts;
    throw NonRetryable("card declined");
  }));
  double skipped = 0;
  const RunSummary summary = RunSkippingTime(flow, engine, *clock, &skipped);
  EXPECT_EQ(summary.close_status, "FAILED");
  EXPECT_EQ(summary.reason, "charge attempt 1 of 6: non-retryable: card declined");
  EXPECT_EQ(attempts.load(), 1);
}

}  // namespace
}  // namespace garcon
