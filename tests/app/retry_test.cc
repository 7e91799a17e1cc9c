// Retry policies end to end with the test kit (fake clock, real tasks): the
// waits between attempts are SWF timers in the history, so a flow with hours
// of backoff finishes its test at once, and an error a task marks
// NonRetryable fails the run after one attempt.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>

#include "garcon/flow.h"
#include "garcon/testing.h"

namespace garcon {
namespace {

using namespace std::chrono_literals;

TEST(RetryFlowTest, HoursOfBackoffPassOnAFakeClock) {
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

  testing::FlowTest test(flow);
  const auto run = test.Run();
  EXPECT_EQ(run.close_status, "COMPLETED") << run.reason;
  EXPECT_EQ(run.result.value("flaky", ""), "done");
  EXPECT_EQ(attempts.load(), 3);
  EXPECT_EQ(run.elapsed, 3h);  // waited 1 h, then 2 h

  std::vector<std::string> waits;
  int fired = 0;
  for (const Json& e : run.history) {
    if (e["eventType"] == "TimerStarted") {
      waits.push_back(e["timerStartedEventAttributes"]["startToFireTimeout"]);
    }
    if (e["eventType"] == "TimerFired") ++fired;
  }
  EXPECT_THAT(waits, ::testing::ElementsAre("3600", "7200"));
  EXPECT_EQ(fired, 2);
}

TEST(RetryFlowTest, ANonRetryableErrorFailsTheRunAfterOneAttempt) {
  std::atomic<int> attempts{0};
  Flow flow("retry-domain", "retry_flow");
  flow.Activity("charge").Retry(5).Run(Sync([&](ActivityExecution&, const Context&) -> Context {
    ++attempts;
    throw NonRetryable("card declined");
  }));
  testing::FlowTest test(flow);
  const auto run = test.Run();
  EXPECT_EQ(run.close_status, "FAILED");
  EXPECT_EQ(run.reason, "charge attempt 1 of 6: non-retryable: card declined");
  EXPECT_EQ(attempts.load(), 1);
}

}  // namespace
}  // namespace garcon
