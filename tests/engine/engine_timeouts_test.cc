// Every timeout kind, driven by a FakeClock: activity (4 kinds), decision
// task, execution, and the event limit.
#include <gtest/gtest.h>

#include "engine/engine_fixture.h"

namespace garcon::engine::testing {
namespace {

class Timeouts : public EngineFixture {
 protected:
  // Starts "w", schedules activity "a" with `timeouts` and returns the run id.
  std::string StartWithActivity(const Json& timeouts) {
    RegisterTypes();
    const std::string run_id = Start("w");
    EXPECT_TRUE(Decide(PollDecision(), ScheduleActivity("a", timeouts)).ok());
    return run_id;
  }
  Json LastEvent(const std::string& run_id) { return History("w", run_id).back(); }
};

TEST_F(Timeouts, ActivityScheduleToStart) {
  const std::string run_id = StartWithActivity({{"scheduleToStartTimeout", "10"}});
  clock_->AdvanceSeconds(9.5);
  EXPECT_EQ(History("w", run_id).size(), 5u);
  clock_->AdvanceSeconds(0.5);
  const Json events = History("w", run_id);
  ASSERT_EQ(events.size(), 7u);
  EXPECT_EQ(events[5], Json::parse(R"({"eventId": 6, "eventTimestamp": 1767225610.0,
      "eventType": "ActivityTaskTimedOut", "activityTaskTimedOutEventAttributes": {
      "timeoutType": "SCHEDULE_TO_START", "scheduledEventId": 5, "startedEventId": 0}})"));
  EXPECT_EQ(events[6]["eventType"], "DecisionTaskScheduled");
  // The task left its task list: no worker gets it.
  EXPECT_EQ(Ok("CountPendingActivityTasks",
               {{"domain", kDomain}, {"taskList", {{"name", kActivityList}}}})["count"],
            0);
  Held poll =
      Hold("PollForActivityTask", {{"domain", kDomain}, {"taskList", {{"name", kActivityList}}}});
  EXPECT_FALSE(poll.answered());
  engine_->Cancel(poll.id);
  EXPECT_EQ(poll.json(), Json({{"startedEventId", 0}}));
}

TEST_F(Timeouts, ActivityScheduleToClose) {
  const std::string run_id =
      StartWithActivity({{"scheduleToCloseTimeout", "100"}, {"scheduleToStartTimeout", "NONE"}});
  clock_->AdvanceSeconds(40);
  const Json task = PollActivity();
  clock_->AdvanceSeconds(59);
  EXPECT_EQ(LastEvent(run_id)["eventType"], "ActivityTaskStarted");
  clock_->AdvanceSeconds(1);
  const Json events = History("w", run_id);
  EXPECT_EQ(
      events[6]["activityTaskTimedOutEventAttributes"],
      Json({{"timeoutType", "SCHEDULE_TO_CLOSE"}, {"scheduledEventId", 5}, {"startedEventId", 6}}));
  EXPECT_EQ(events[6]["eventTimestamp"], T0() + 100);
  EXPECT_EQ(events[7]["eventType"], "DecisionTaskScheduled");
  EXPECT_EQ(Call("RespondActivityTaskCompleted", {{"taskToken", task["taskToken"]}}).fault(),
            Fault::kUnknownResource);
}

TEST_F(Timeouts, ActivityScheduleToCloseWhileQueued) {
  const std::string run_id =
      StartWithActivity({{"scheduleToCloseTimeout", "5"}, {"scheduleToStartTimeout", "NONE"}});
  clock_->AdvanceSeconds(5);
  EXPECT_EQ(
      History("w", run_id)[5]["activityTaskTimedOutEventAttributes"],
      Json({{"timeoutType", "SCHEDULE_TO_CLOSE"}, {"scheduledEventId", 5}, {"startedEventId", 0}}));
  EXPECT_EQ(Ok("CountPendingActivityTasks",
               {{"domain", kDomain}, {"taskList", {{"name", kActivityList}}}})["count"],
            0);
}

TEST_F(Timeouts, ActivityStartToClose) {
  const std::string run_id = StartWithActivity({{"startToCloseTimeout", "30"}});
  clock_->AdvanceSeconds(5);
  const Json task = PollActivity();
  clock_->AdvanceSeconds(29);
  EXPECT_EQ(LastEvent(run_id)["eventType"], "ActivityTaskStarted");
  clock_->AdvanceSeconds(1);
  const Json events = History("w", run_id);
  EXPECT_EQ(
      events[6]["activityTaskTimedOutEventAttributes"],
      Json({{"timeoutType", "START_TO_CLOSE"}, {"scheduledEventId", 5}, {"startedEventId", 6}}));
  EXPECT_EQ(events[6]["eventTimestamp"], T0() + 35);
  EXPECT_EQ(Call("RecordActivityTaskHeartbeat", {{"taskToken", task["taskToken"]}}).fault(),
            Fault::kUnknownResource);
}

TEST_F(Timeouts, ActivityHeartbeatResetAndDetails) {
  const std::string run_id = StartWithActivity({{"heartbeatTimeout", "10"}});
  const Json task = PollActivity();
  clock_->AdvanceSeconds(8);
  EXPECT_EQ(
      Ok("RecordActivityTaskHeartbeat", {{"taskToken", task["taskToken"]}, {"details", "p1"}}),
      Json({{"cancelRequested", false}}));
  clock_->AdvanceSeconds(8);  // T0+16: would have timed out at T0+10 without the heartbeat
  Ok("RecordActivityTaskHeartbeat", {{"taskToken", task["taskToken"]}, {"details", "p2"}});
  clock_->AdvanceSeconds(8);                                              // T0+24
  Ok("RecordActivityTaskHeartbeat", {{"taskToken", task["taskToken"]}});  // keeps p2
  clock_->AdvanceSeconds(9.9);
  EXPECT_EQ(LastEvent(run_id)["eventType"], "ActivityTaskStarted");
  clock_->AdvanceSeconds(0.1);
  const Json events = History("w", run_id);
  ASSERT_EQ(events.size(), 8u);
  EXPECT_EQ(events[6]["activityTaskTimedOutEventAttributes"], Json({{"timeoutType", "HEARTBEAT"},
                                                                    {"scheduledEventId", 5},
                                                                    {"startedEventId", 6},
                                                                    {"details", "p2"}}));
  EXPECT_EQ(events[6]["eventTimestamp"], T0() + 34);
  EXPECT_EQ(events[7]["eventType"], "DecisionTaskScheduled");
}

TEST_F(Timeouts, FirstTimeoutToFireClosesTheTask) {
  const std::string run_id = StartWithActivity({{"heartbeatTimeout", "50"},
                                                {"startToCloseTimeout", "40"},
                                                {"scheduleToCloseTimeout", "30"}});
  PollActivity();
  clock_->AdvanceSeconds(1000);
  const Json events = History("w", run_id);
  ASSERT_EQ(events.size(), 8u);
  EXPECT_EQ(events[6]["activityTaskTimedOutEventAttributes"]["timeoutType"], "SCHEDULE_TO_CLOSE");
  EXPECT_EQ(events[6]["eventTimestamp"], T0() + 30);
}

TEST_F(Timeouts, DecisionTaskStartToCloseAndLateRespond) {
  RegisterTypes();
  const std::string run_id = Start("w");
  const Json task = PollDecision();
  clock_->AdvanceSeconds(29);
  EXPECT_EQ(History("w", run_id).size(), 3u);
  clock_->AdvanceSeconds(1);
  const Json events = History("w", run_id);
  ASSERT_EQ(events.size(), 5u);
  EXPECT_EQ(events[3], Json::parse(R"({"eventId": 4, "eventTimestamp": 1767225630.0,
      "eventType": "DecisionTaskTimedOut", "decisionTaskTimedOutEventAttributes": {
      "timeoutType": "START_TO_CLOSE", "scheduledEventId": 2, "startedEventId": 3}})"));
  EXPECT_EQ(events[4]["eventType"], "DecisionTaskScheduled");
  EXPECT_EQ(events[4]["eventTimestamp"], T0() + 30);
  EXPECT_EQ(Decide(task, {CompleteWorkflow()}).fault(), Fault::kUnknownResource);
  const Json again = PollDecision();
  EXPECT_EQ(again["startedEventId"], 6);
  // No decision task was completed yet.
  EXPECT_EQ(again["previousStartedEventId"], 0);
  ASSERT_TRUE(Decide(again, {CompleteWorkflow()}).ok());
  EXPECT_EQ(Describe("w", run_id)["executionInfo"]["closeStatus"], "COMPLETED");
}

TEST_F(Timeouts, DecisionTaskTimeoutBatchesPendingEvents) {
  RegisterTypes();
  const std::string run_id = Start("w");
  PollDecision();
  Ok("SignalWorkflowExecution", {{"domain", kDomain}, {"workflowId", "w"}, {"signalName", "s"}});
  clock_->AdvanceSeconds(30);
  EXPECT_EQ(EventTypes("w", run_id),
            (std::vector<std::string>{"WorkflowExecutionStarted", "DecisionTaskScheduled",
                                      "DecisionTaskStarted", "WorkflowExecutionSignaled",
                                      "DecisionTaskTimedOut", "DecisionTaskScheduled"}));
}

TEST_F(Timeouts, DecisionTaskTimeoutNone) {
  RegisterTypes();
  const std::string run_id = Start("w", {{"taskStartToCloseTimeout", "NONE"}});
  const Json task = PollDecision();
  clock_->AdvanceSeconds(3000);
  EXPECT_EQ(History("w", run_id).size(), 3u);
  EXPECT_TRUE(Decide(task, Json::array()).ok());
}

TEST_F(Timeouts, ExecutionStartToClose) {
  RegisterTypes();
  const std::string run_id = Start("w", {{"executionStartToCloseTimeout", "100"}});
  ASSERT_TRUE(Decide(PollDecision(), ScheduleActivity("a", {{"heartbeatTimeout", "10"}})).ok());
  const Json activity = PollActivity();
  clock_->AdvanceSeconds(1000);
  const Json events = History("w", run_id);
  EXPECT_EQ(TypesOf(events),
            (std::vector<std::string>{
                "WorkflowExecutionStarted", "DecisionTaskScheduled", "DecisionTaskStarted",
                "DecisionTaskCompleted", "ActivityTaskScheduled", "ActivityTaskStarted",
                "ActivityTaskTimedOut", "DecisionTaskScheduled", "WorkflowExecutionTimedOut"}));
  EXPECT_EQ(events[6]["eventTimestamp"], T0() + 10);
  EXPECT_EQ(events[8], Json::parse(R"({"eventId": 9, "eventTimestamp": 1767225700.0,
      "eventType": "WorkflowExecutionTimedOut", "workflowExecutionTimedOutEventAttributes": {
      "timeoutType": "START_TO_CLOSE", "childPolicy": "TERMINATE"}})"));
  const Json info = Describe("w", run_id)["executionInfo"];
  EXPECT_EQ(info["closeStatus"], "TIMED_OUT");
  EXPECT_EQ(info["closeTimestamp"], T0() + 100);
  // Its queued decision task is gone.
  EXPECT_EQ(Ok("CountPendingDecisionTasks",
               {{"domain", kDomain}, {"taskList", {{"name", kDecisionList}}}})["count"],
            0);
}

TEST_F(Timeouts, TimerThreadWithFakeClockChangesNothing) {
  MakeEngine(/*timer_thread=*/true);
  const std::string run_id = StartWithActivity({{"scheduleToStartTimeout", "10"}});
  clock_->AdvanceSeconds(10);
  EXPECT_EQ(History("w", run_id)[5]["activityTaskTimedOutEventAttributes"]["timeoutType"],
            "SCHEDULE_TO_START");
}

TEST_F(Timeouts, FireDueTimersByHand) {
  const std::string run_id = StartWithActivity({{"scheduleToStartTimeout", "10"}});
  engine_->FireDueTimers();
  EXPECT_EQ(History("w", run_id).size(), 5u);
}

// 25,000 events per run: decisions stop applying near the limit, the run is
// terminated (EVENT_LIMIT_EXCEEDED), and the effects applied after the
// decisions (here signals to itself) cannot push the history past the limit.
TEST_F(Timeouts, EventLimitTerminatesTheRun) {
  RegisterTypes();
  const std::string run_id = Start("w");
  Json decisions = Json::array();
  const Json signal_self{
      {"decisionType", "SignalExternalWorkflowExecution"},
      {"signalExternalWorkflowExecutionDecisionAttributes", {{"workflowId", "w"}, {"signalName", "s"}}}};
  for (int i = 0; i < 9000; ++i) decisions.push_back(signal_self);
  ASSERT_TRUE(Decide(PollDecision(), decisions).ok());
  const Json last = Ok("GetWorkflowExecutionHistory",
                       {{"domain", kDomain},
                        {"execution", {{"workflowId", "w"}, {"runId", run_id}}},
                        {"maximumPageSize", 1},
                        {"reverseOrder", true}})["events"][0];
  EXPECT_EQ(last["eventId"], 25000);
  EXPECT_EQ(last["workflowExecutionTerminatedEventAttributes"],
            Json({{"childPolicy", "TERMINATE"}, {"cause", "EVENT_LIMIT_EXCEEDED"}}));
  EXPECT_EQ(Describe("w", run_id)["executionInfo"]["closeStatus"], "TERMINATED");
}

// The system clock: the timer thread ends a long poll on time.
TEST(SystemClockEngine, PollTimesOutOnTheTimerThread) {
  EngineOptions options;
  options.poll_timeout = std::chrono::milliseconds(50);
  Engine engine(options);
  ASSERT_TRUE(
      engine
          .Call("RegisterDomain", {{"name", "d"}, {"workflowExecutionRetentionPeriodInDays", "1"}})
          .ok());
  const auto before = std::chrono::steady_clock::now();
  auto r = engine.Call("PollForActivityTask", {{"domain", "d"}, {"taskList", {{"name", "l"}}}});
  const auto waited = std::chrono::steady_clock::now() - before;
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, Json({{"startedEventId", 0}}));
  EXPECT_GE(waited, std::chrono::milliseconds(45));
  EXPECT_LT(waited, std::chrono::seconds(10));
}

}  // namespace
}  // namespace garcon::engine::testing
