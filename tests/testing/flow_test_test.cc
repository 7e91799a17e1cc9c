// The test kit's FlowTest: a flow with an hour of backoff, a signal two hours
// in, a child flow and a day's delay runs to its close at once on the fake
// clock; fakes stand in for tasks per attempt.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <stdexcept>

#include "garcon/testing.h"
#include "testing/order.h"

namespace garcon {
namespace {

using namespace std::chrono_literals;
using testing::FlowTest;

TEST(FlowTestKit, AFlowWithHoursOfTimersFinishesAtOnce) {
  test::OrderFlows flows;
  FlowTest t(flows.order);
  t.Fake("reserve", [](const Context&, int attempt) -> Context {
    if (attempt < 3) throw std::runtime_error("inventory down");
    return {{"reserved", 3}};
  });
  t.Signal("approved", {{"approver", "ana"}}, 2h);
  const auto run = t.Run({{"amount", 12.5}});
  ASSERT_EQ(run.close_status, "COMPLETED") << run.reason << run.waiting;
  EXPECT_EQ(run.result["reserved"], 3);
  EXPECT_EQ(run.result["approver"], "ana");
  EXPECT_EQ(run.result["boxes"], 2);  // from the child flow
  EXPECT_EQ(run.result["shipped"], true);
  EXPECT_EQ(run.Attempts("reserve"), 3);
  // Backoff 1 h + 2 h, the signal at 2 h (already passed), then a day.
  EXPECT_EQ(run.elapsed, 3h + 24h);
}

TEST(FlowTestKit, FakesSeeTheInputAndCanFailPerAttempt) {
  test::OrderFlows flows;
  FlowTest t(flows.order);
  Context charge_input;
  t.Fake("charge", [&](const Context& input, int) -> Context {
    charge_input = input;
    throw NonRetryable("card declined");
  });
  t.Signal("approved", {{"approver", "bo"}});
  const auto run = t.Run({{"amount", 3}});
  EXPECT_EQ(run.close_status, "FAILED");
  EXPECT_EQ(run.reason, "charge attempt 1 of 3: non-retryable: card declined");
  EXPECT_EQ(charge_input.value("approver", ""), "bo");
  EXPECT_EQ(charge_input.value("amount", 0), 3);
}

TEST(FlowTestKit, AnOptionalActivityThatFailsLeavesTheRunCompleted) {
  test::OrderFlows flows;
  FlowTest t(flows.order);
  t.Fake("notify", [](const Context&, int) -> Context { throw std::runtime_error("mail down"); });
  t.Signal("approved");
  const auto run = t.Run();
  ASSERT_EQ(run.close_status, "COMPLETED");
  ASSERT_EQ(run.result["notify.failed"].size(), 1u);
  EXPECT_EQ(run.result["notify.failed"][0]["reason"], "mail down");
}

TEST(FlowTestKit, ARunWaitingForASignalNobodySendsSaysSo) {
  test::OrderFlows flows;
  FlowTest t(flows.order);
  const auto run = t.Run();
  EXPECT_EQ(run.close_status, "OPEN");
  EXPECT_THAT(run.waiting, ::testing::HasSubstr("signal"));
  EXPECT_EQ(run.Attempts("reserve"), 1);
  EXPECT_EQ(run.Attempts("charge"), 0);
}

TEST(FlowTestKit, ChildActivitiesCanBeFakedAndUnknownNamesAreRefused) {
  test::OrderFlows flows;
  FlowTest t(flows.order);
  t.Fake("pick", [](const Context&, int) -> Context { return {{"picked", "faked"}}; });
  t.Signal("approved");
  const auto run = t.Run();
  ASSERT_EQ(run.close_status, "COMPLETED");
  EXPECT_EQ(run.result["picked"], "faked");
  EXPECT_THROW(t.Fake("nope", [](const Context&, int) { return Context::object(); }),
               std::invalid_argument);
  EXPECT_THROW(t.Fake("pack", [](const Context&, int) { return Context::object(); }),
               std::invalid_argument) << "order's pack runs a child flow";
}

}  // namespace
}  // namespace garcon

namespace garcon {
namespace {

TEST(FlowTestKit, AFanOutPastTheOpenActivityLimitCompletes) {
  // SWF allows 1,000 open activity tasks per run: the flow decider keeps a
  // window under it, scheduling more instances as others close.
  Flow flow("fan", "fan_out");
  auto& each = flow.Activity("each")
                   .Generator([](const Context&) {
                     std::vector<Context> items;
                     for (int i = 0; i < 1050; ++i) items.push_back({{"generator.i", i}});
                     return items;
                   })
                   .Run(Sync(Task([](ActivityExecution&, int i) {
                                return Context{{"done." + std::to_string(i), true}};
                              }).Fill("generator.i")));
  flow.Activity("total").Requires({&each}).Run(Sync(Task([](ActivityExecution&) {
                                                   return Context{{"total", "ok"}};
                                                 }).Fill()));
  testing::FlowTest test(flow);
  const auto run = test.Run();
  ASSERT_EQ(run.close_status, "COMPLETED") << run.reason;
  EXPECT_EQ(run.Attempts("each"), 1050);
  EXPECT_EQ(run.result["done.1049"], true);
  EXPECT_EQ(run.result["total"], "ok");
}

}  // namespace
}  // namespace garcon
