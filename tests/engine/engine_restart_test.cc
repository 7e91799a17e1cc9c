// Restarts: the engine stops and a new one opens the same store. Everything
// acknowledged before is there after: domains and types, open executions,
// queued and started tasks, task tokens, timers, and every pending deadline,
// with deadlines that passed while the engine was down firing at reopen.
// Skipped when the suite runs without a store (GARCON_TEST_STORE unset).
#include <gtest/gtest.h>

#include "engine/engine_fixture.h"

namespace garcon::engine::testing {
namespace {

class Restart : public EngineFixture {
 protected:
  void SetUp() override {
    EngineFixture::SetUp();
    if (!has_store()) GTEST_SKIP() << "runs on a store (GARCON_TEST_STORE=memory|sqlite)";
  }

  std::string StartWithActivity(const Json& timeouts) {
    RegisterTypes();
    const std::string run_id = Start("w");
    EXPECT_TRUE(Decide(PollDecision(), ScheduleActivity("a", timeouts)).ok());
    return run_id;
  }

  // Event ids are 1, 2, 3... with no gap or repeat.
  void ExpectContiguous(const Json& events) {
    for (std::size_t i = 0; i < events.size(); ++i) {
      EXPECT_EQ(events[i]["eventId"], i + 1) << events[i].dump();
    }
  }
};

TEST_F(Restart, AWorkflowRunsAcrossRestartsBetweenEveryStep) {
  RegisterTypes();
  const std::string run_id = Start("w", {{"input", "in"}});
  ASSERT_TRUE(Reopen());
  const Json decision = PollDecision();  // the queued decision task survived
  ASSERT_EQ(decision["workflowExecution"]["runId"], run_id);
  ASSERT_TRUE(Reopen());
  ASSERT_TRUE(Decide(decision, ScheduleActivity("a")).ok());  // its token survived
  ASSERT_TRUE(Reopen());
  const Json task = PollActivity();
  ASSERT_EQ(task["activityId"], "a");
  EXPECT_FALSE(task.contains("input"));
  ASSERT_TRUE(Reopen());
  ASSERT_TRUE(Call("RespondActivityTaskCompleted", {{"taskToken", task["taskToken"]}, {"result", "r"}})
                  .ok());
  ASSERT_TRUE(Reopen());
  const Json last = PollDecision();
  EXPECT_EQ(last["previousStartedEventId"], 3);
  ASSERT_TRUE(Decide(last, CompleteWorkflow("done")).ok());
  ASSERT_TRUE(Reopen());

  const Json events = History("w", run_id);
  ExpectContiguous(events);
  EXPECT_EQ(TypesOf(events),
            (std::vector<std::string>{"WorkflowExecutionStarted", "DecisionTaskScheduled",
                                      "DecisionTaskStarted", "DecisionTaskCompleted",
                                      "ActivityTaskScheduled", "ActivityTaskStarted",
                                      "ActivityTaskCompleted", "DecisionTaskScheduled",
                                      "DecisionTaskStarted", "DecisionTaskCompleted",
                                      "WorkflowExecutionCompleted"}));
  const Json info = Describe("w", run_id)["executionInfo"];
  EXPECT_EQ(info["executionStatus"], "CLOSED");
  EXPECT_EQ(info["closeStatus"], "COMPLETED");
  // The visibility indexes are rebuilt too.
  for (const char* filter : {"startTimeFilter", "closeTimeFilter"}) {
    const Json closed = Ok("ListClosedWorkflowExecutions",
                           {{"domain", kDomain}, {filter, {{"oldestDate", T0()}}}});
    ASSERT_EQ(closed["executionInfos"].size(), 1u) << filter;
    EXPECT_EQ(closed["executionInfos"][0]["execution"]["runId"], run_id);
  }
  EXPECT_EQ(Ok("CountOpenWorkflowExecutions",
               {{"domain", kDomain}, {"startTimeFilter", {{"oldestDate", 0}}}})["count"],
            0);
}

TEST_F(Restart, DomainsTypesAndOpenRunsAreKept) {
  RegisterTypes();
  const std::string run_id = Start("w");
  ASSERT_TRUE(Reopen());
  EXPECT_EQ(Call("RegisterDomain", {{"name", kDomain}, {"workflowExecutionRetentionPeriodInDays", "1"}})
                .fault(),
            Fault::kDomainAlreadyExists);
  EXPECT_EQ(Ok("DescribeActivityType",
               {{"domain", kDomain}, {"activityType", {{"name", "act"}, {"version", "1"}}}})
                ["configuration"]["defaultTaskStartToCloseTimeout"],
            "300");
  const Json workflow_type =
      Ok("DescribeWorkflowType",
         {{"domain", kDomain}, {"workflowType", {{"name", "wf"}, {"version", "1"}}}});
  EXPECT_EQ(workflow_type["configuration"]["defaultExecutionStartToCloseTimeout"], "3600");
  EXPECT_EQ(workflow_type["configuration"]["defaultChildPolicy"], "TERMINATE");
  EXPECT_EQ(workflow_type["configuration"]["defaultTaskList"]["name"], kDecisionList);
  EXPECT_EQ(Call("StartWorkflowExecution",
                 {{"domain", kDomain},
                  {"workflowId", "w"},
                  {"workflowType", {{"name", "wf"}, {"version", "1"}}}})
                .fault(),
            Fault::kWorkflowExecutionAlreadyStarted);
  EXPECT_EQ(Describe("w", run_id)["openCounts"]["openDecisionTasks"], 1);
  const Json open = Ok("ListOpenWorkflowExecutions",
                       {{"domain", kDomain}, {"startTimeFilter", {{"oldestDate", 0}}}});
  ASSERT_EQ(open["executionInfos"].size(), 1u);
  EXPECT_EQ(open["executionInfos"][0]["execution"]["runId"], run_id);
}

TEST_F(Restart, AStartedActivityTimesOutAfterARestart) {
  const std::string run_id = StartWithActivity({{"startToCloseTimeout", "300"}});
  const Json task = PollActivity();
  ASSERT_TRUE(Reopen());
  clock_->AdvanceSeconds(299);
  EXPECT_EQ(History("w", run_id).back()["eventType"], "ActivityTaskStarted");
  clock_->AdvanceSeconds(1);
  const Json events = History("w", run_id);
  ExpectContiguous(events);
  EXPECT_EQ(events[6]["eventType"], "ActivityTaskTimedOut");
  EXPECT_EQ(events[6]["activityTaskTimedOutEventAttributes"]["timeoutType"], "START_TO_CLOSE");
  EXPECT_EQ(events[6]["eventTimestamp"], T0() + 300);
  EXPECT_EQ(Call("RespondActivityTaskCompleted", {{"taskToken", task["taskToken"]}}).fault(),
            Fault::kUnknownResource);
}

TEST_F(Restart, ADeadlineThatPassedWhileDownFiresAtReopen) {
  const std::string run_id =
      StartWithActivity({{"startToCloseTimeout", "300"}, {"heartbeatTimeout", "60"}});
  const Json task = PollActivity();
  ASSERT_TRUE(Call("RecordActivityTaskHeartbeat",
                   {{"taskToken", task["taskToken"]}, {"details", "halfway"}})
                  .ok());
  engine_.reset();              // down...
  clock_->AdvanceSeconds(1000);  // ...while time passes
  ASSERT_TRUE(Reopen());
  const Json events = History("w", run_id);
  ExpectContiguous(events);
  ASSERT_GE(events.size(), 8u);
  EXPECT_EQ(events[6]["activityTaskTimedOutEventAttributes"],
            Json({{"timeoutType", "HEARTBEAT"},
                  {"scheduledEventId", 5},
                  {"startedEventId", 6},
                  {"details", "halfway"}}));
  // Recorded when the engine came back: a history's timestamps never go
  // back before what the engine had already written elsewhere.
  EXPECT_EQ(events[6]["eventTimestamp"], T0() + 1000);
  EXPECT_EQ(events[7]["eventType"], "DecisionTaskScheduled");
}

TEST_F(Restart, AQueuedActivityIsHandedOutAfterARestartInPriorityOrder) {
  RegisterTypes();
  Start("w");
  ASSERT_TRUE(Decide(PollDecision(), {ScheduleActivity("low", {{"taskPriority", "1"}}),
                                      ScheduleActivity("high", {{"taskPriority", "5"}}),
                                      ScheduleActivity("low2", {{"taskPriority", "1"}})})
                  .ok());
  ASSERT_TRUE(Reopen());
  EXPECT_EQ(PollActivity()["activityId"], "high");
  EXPECT_EQ(PollActivity()["activityId"], "low");
  ASSERT_TRUE(Reopen());
  EXPECT_EQ(PollActivity()["activityId"], "low2");
}

TEST_F(Restart, TimersFireAfterARestart) {
  RegisterTypes();
  const std::string run_id = Start("w");
  ASSERT_TRUE(Decide(PollDecision(),
                     Json{{"decisionType", "StartTimer"},
                          {"startTimerDecisionAttributes",
                           {{"timerId", "t"}, {"startToFireTimeout", "100"}}}})
                  .ok());
  ASSERT_TRUE(Reopen());
  EXPECT_EQ(Describe("w", run_id)["openCounts"]["openTimers"], 1);
  clock_->AdvanceSeconds(100);
  const Json events = History("w", run_id);
  ExpectContiguous(events);
  EXPECT_EQ(events[5]["eventType"], "TimerFired");
  EXPECT_EQ(events[5]["eventTimestamp"], T0() + 100);
}

TEST_F(Restart, AStartedDecisionTaskTimesOutAfterARestart) {
  RegisterTypes();
  const std::string run_id = Start("w");
  const Json decision = PollDecision();
  ASSERT_TRUE(Reopen());
  clock_->AdvanceSeconds(30);  // the type's task start-to-close timeout
  EXPECT_EQ(Decide(decision, CompleteWorkflow()).fault(), Fault::kUnknownResource);
  const Json again = PollDecision();
  EXPECT_EQ(again["workflowExecution"]["runId"], run_id);
  EXPECT_EQ(TypesOf(History("w", run_id))[3], "DecisionTaskTimedOut");
}

TEST_F(Restart, TheExecutionTimeoutIsKept) {
  RegisterTypes();
  const std::string run_id = Start("w", {{"executionStartToCloseTimeout", "500"}});
  ASSERT_TRUE(Reopen());
  clock_->AdvanceSeconds(500);
  const Json info = Describe("w", run_id)["executionInfo"];
  EXPECT_EQ(info["closeStatus"], "TIMED_OUT");
}

}  // namespace
}  // namespace garcon::engine::testing
