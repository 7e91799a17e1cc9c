// The test kit's Replay: a recorded history replays cleanly against the code
// that made it, and a change that would make its open runs decide otherwise
// is reported at the first decision where they part.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "garcon/testing.h"
#include "testing/order.h"

namespace garcon {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

Json RecordedOrder() {
  test::OrderFlows flows;
  testing::FlowTest t(flows.order);
  t.Fake("reserve", [](const Context&, int attempt) -> Context {
    if (attempt == 1) throw std::runtime_error("inventory down");
    return {{"reserved", 1}};
  });
  t.Signal("approved", {{"approver", "ana"}}, 3h);
  const auto run = t.Run();
  EXPECT_EQ(run.close_status, "COMPLETED");
  // Through JSON text, as a user would save it.
  return Json::parse(run.HistoryJson().dump());
}

TEST(ReplayTest, AHistoryReplaysAgainstTheCodeThatMadeIt) {
  const Json history = RecordedOrder();
  test::OrderFlows flows;
  const auto replay = testing::Replay(flows.order, history);
  EXPECT_TRUE(replay.ok) << replay.divergence;
  EXPECT_GE(replay.decision_tasks, 6);
  // The array alone works too.
  EXPECT_TRUE(testing::Replay(flows.order, history["events"]).ok);
}

TEST(ReplayTest, AnActivityInsertedBeforeOthersIsTheFirstDivergence) {
  const Json history = RecordedOrder();
  Flow changed("shop", "order");
  auto& audit = changed.Activity("audit").Run(Sync(test::Returns({})));
  changed.Activity("reserve").Requires({&audit}).Run(Sync(test::Returns({})));
  const auto replay = testing::Replay(changed, history);
  ASSERT_FALSE(replay.ok);
  EXPECT_EQ(replay.event_id, 4);  // the first decision task
  EXPECT_THAT(replay.divergence, HasSubstr("the history has ScheduleActivityTask order_reserve-1"));
  EXPECT_THAT(replay.divergence, HasSubstr("the flow now decides ScheduleActivityTask order_audit-1"));
}

TEST(ReplayTest, ARetryPolicyChangedUnderOpenRunsIsCaught) {
  const Json history = RecordedOrder();
  test::OrderFlows flows;
  // The same flow, but `reserve` is retried at once instead of after an hour.
  Flow changed("shop", "order");
  auto& reserve = changed.Activity("reserve").Retry(3).Run(Sync(test::Returns({})));
  auto& charge = changed.Activity("charge").Requires({&reserve}).AwaitSignal("approved").Retry(2).Run(
      Sync(test::Returns({})));
  changed.Activity("pack").Requires({&charge}).Run(Child(flows.packing));
  const auto replay = testing::Replay(changed, history);
  ASSERT_FALSE(replay.ok);
  EXPECT_THAT(replay.divergence, HasSubstr("the history has StartTimer retry-"));
  EXPECT_THAT(replay.divergence, HasSubstr("the flow now decides ScheduleActivityTask order_reserve-1"));
}

TEST(ReplayTest, WhatIsNotAHistoryIsRefused) {
  test::OrderFlows flows;
  const auto replay = testing::Replay(flows.order, Json{{"nothing", 1}});
  // An object without events is an empty history: nothing to compare.
  EXPECT_TRUE(replay.ok);
  EXPECT_EQ(replay.decision_tasks, 0);
  EXPECT_FALSE(testing::Replay(flows.order, Json("text")).ok);
}

}  // namespace
}  // namespace garcon
