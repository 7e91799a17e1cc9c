// Registration, executions and decisions: faults, exact event sequences and
// attributes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/engine_fixture.h"
#include "protocol/model.h"

namespace garcon::engine::testing {
namespace {

using ::testing::ElementsAre;

using Registration = EngineFixture;

TEST_F(Registration, DomainFaults) {
  RegisterDomain();
  auto again =
      Call("RegisterDomain", {{"name", kDomain}, {"workflowExecutionRetentionPeriodInDays", "1"}});
  EXPECT_EQ(again.fault(), Fault::kDomainAlreadyExists);
  auto unknown = Call("DescribeDomain", {{"name", "nope"}});
  EXPECT_EQ(unknown.fault(), Fault::kUnknownResource);
  EXPECT_EQ(unknown.status().message(), "Unknown domain: nope");
  auto bad_retention =
      Call("RegisterDomain", {{"name", "e"}, {"workflowExecutionRetentionPeriodInDays", "91"}});
  EXPECT_EQ(bad_retention.fault(), Fault::kValidation);
  auto missing = Call("RegisterDomain", {{"name", "e"}});
  EXPECT_EQ(missing.fault(), Fault::kValidation);
}

TEST_F(Registration, DescribeDomain) {
  Ok("RegisterDomain",
     {{"name", "d"}, {"description", "a domain"}, {"workflowExecutionRetentionPeriodInDays", "7"}});
  const Json detail = Ok("DescribeDomain", {{"name", "d"}});
  EXPECT_EQ(detail["domainInfo"]["name"], "d");
  EXPECT_EQ(detail["domainInfo"]["status"], "REGISTERED");
  EXPECT_EQ(detail["domainInfo"]["description"], "a domain");
  EXPECT_TRUE(detail["domainInfo"]["arn"].is_string());
  EXPECT_EQ(detail["configuration"], Json({{"workflowExecutionRetentionPeriodInDays", "7"}}));
}

TEST_F(Registration, ListDomainsFiltersPagesAndDeprecates) {
  for (const char* name : {"c", "a", "b"}) RegisterDomain(name);
  Ok("DeprecateDomain", {{"name", "b"}});
  EXPECT_EQ(Call("DeprecateDomain", {{"name", "b"}}).fault(), Fault::kDomainDeprecated);
  const Json first =
      Ok("ListDomains", {{"registrationStatus", "REGISTERED"}, {"maximumPageSize", 1}});
  ASSERT_EQ(first["domainInfos"].size(), 1u);
  EXPECT_EQ(first["domainInfos"][0]["name"], "a");
  ASSERT_TRUE(first.contains("nextPageToken"));
  const Json second = Ok("ListDomains", {{"registrationStatus", "REGISTERED"},
                                         {"maximumPageSize", 1},
                                         {"nextPageToken", first["nextPageToken"]}});
  ASSERT_EQ(second["domainInfos"].size(), 1u);
  EXPECT_EQ(second["domainInfos"][0]["name"], "c");
  EXPECT_FALSE(second.contains("nextPageToken"));
  const Json deprecated = Ok("ListDomains", {{"registrationStatus", "DEPRECATED"}});
  ASSERT_EQ(deprecated["domainInfos"].size(), 1u);
  EXPECT_EQ(deprecated["domainInfos"][0]["name"], "b");
  EXPECT_EQ(deprecated["domainInfos"][0]["status"], "DEPRECATED");
  const Json reversed =
      Ok("ListDomains", {{"registrationStatus", "REGISTERED"}, {"reverseOrder", true}});
  EXPECT_EQ(reversed["domainInfos"][0]["name"], "c");
  EXPECT_EQ(
      Call("ListDomains", {{"registrationStatus", "REGISTERED"}, {"nextPageToken", "garbage"}})
          .fault(),
      Fault::kValidation);
  Ok("UndeprecateDomain", {{"name", "b"}});
  EXPECT_EQ(Call("UndeprecateDomain", {{"name", "b"}}).fault(), Fault::kDomainAlreadyExists);
}

TEST_F(Registration, TypeFaults) {
  RegisterTypes();
  auto again =
      Call("RegisterActivityType", {{"domain", kDomain}, {"name", "act"}, {"version", "1"}});
  EXPECT_EQ(again.fault(), Fault::kTypeAlreadyExists);
  auto again_wf =
      Call("RegisterWorkflowType", {{"domain", kDomain}, {"name", "wf"}, {"version", "1"}});
  EXPECT_EQ(again_wf.fault(), Fault::kTypeAlreadyExists);
  auto no_domain =
      Call("RegisterActivityType", {{"domain", "x"}, {"name", "act"}, {"version", "1"}});
  EXPECT_EQ(no_domain.fault(), Fault::kUnknownResource);
  EXPECT_EQ(no_domain.status().message(), "Unknown domain: x");
  auto no_domain_wf =
      Call("RegisterWorkflowType", {{"domain", "x"}, {"name", "wf"}, {"version", "1"}});
  EXPECT_EQ(no_domain_wf.fault(), Fault::kUnknownResource);
  auto bad_duration = Call("RegisterActivityType", {{"domain", kDomain},
                                                    {"name", "act"},
                                                    {"version", "2"},
                                                    {"defaultTaskStartToCloseTimeout", "soon"}});
  EXPECT_EQ(bad_duration.fault(), Fault::kValidation);
  auto none_execution =
      Call("RegisterWorkflowType", {{"domain", kDomain},
                                    {"name", "wf"},
                                    {"version", "2"},
                                    {"defaultExecutionStartToCloseTimeout", "NONE"}});
  EXPECT_EQ(none_execution.fault(), Fault::kValidation);
  auto unknown = Call("DescribeActivityType",
                      {{"domain", kDomain}, {"activityType", {{"name", "act"}, {"version", "9"}}}});
  EXPECT_EQ(unknown.fault(), Fault::kUnknownResource);
}

TEST_F(Registration, DescribeAndListTypes) {
  RegisterTypes();
  const Json activity =
      Ok("DescribeActivityType",
         {{"domain", kDomain}, {"activityType", {{"name", "act"}, {"version", "1"}}}});
  EXPECT_EQ(activity["typeInfo"]["activityType"], Json({{"name", "act"}, {"version", "1"}}));
  EXPECT_EQ(activity["typeInfo"]["status"], "REGISTERED");
  EXPECT_EQ(activity["typeInfo"]["creationDate"], T0());
  EXPECT_EQ(activity["configuration"], Json({{"defaultTaskList", {{"name", kActivityList}}},
                                             {"defaultTaskScheduleToStartTimeout", "60"},
                                             {"defaultTaskScheduleToCloseTimeout", "600"},
                                             {"defaultTaskStartToCloseTimeout", "300"},
                                             {"defaultTaskHeartbeatTimeout", "NONE"}}));
  const Json workflow =
      Ok("DescribeWorkflowType",
         {{"domain", kDomain}, {"workflowType", {{"name", "wf"}, {"version", "1"}}}});
  EXPECT_EQ(workflow["configuration"], Json({{"defaultTaskList", {{"name", kDecisionList}}},
                                             {"defaultExecutionStartToCloseTimeout", "3600"},
                                             {"defaultTaskStartToCloseTimeout", "30"},
                                             {"defaultChildPolicy", "TERMINATE"}}));
  Ok("RegisterActivityType", {{"domain", kDomain}, {"name", "act"}, {"version", "2"}});
  Ok("RegisterActivityType", {{"domain", kDomain}, {"name", "other"}, {"version", "1"}});
  const Json listed =
      Ok("ListActivityTypes",
         {{"domain", kDomain}, {"registrationStatus", "REGISTERED"}, {"name", "act"}});
  ASSERT_EQ(listed["typeInfos"].size(), 2u);
  EXPECT_EQ(listed["typeInfos"][1]["activityType"]["version"], "2");
  const Json all =
      Ok("ListActivityTypes", {{"domain", kDomain}, {"registrationStatus", "REGISTERED"}});
  EXPECT_EQ(all["typeInfos"].size(), 3u);
  const Json workflows =
      Ok("ListWorkflowTypes", {{"domain", kDomain}, {"registrationStatus", "REGISTERED"}});
  ASSERT_EQ(workflows["typeInfos"].size(), 1u);
}

TEST_F(Registration, DeprecateUndeprecateDeleteTypes) {
  RegisterTypes();
  const Json type{{"name", "act"}, {"version", "1"}};
  EXPECT_EQ(Call("DeleteActivityType", {{"domain", kDomain}, {"activityType", type}}).fault(),
            Fault::kTypeNotDeprecated);
  EXPECT_EQ(Call("UndeprecateActivityType", {{"domain", kDomain}, {"activityType", type}}).fault(),
            Fault::kTypeAlreadyExists);
  clock_->AdvanceSeconds(5);
  Ok("DeprecateActivityType", {{"domain", kDomain}, {"activityType", type}});
  EXPECT_EQ(Call("DeprecateActivityType", {{"domain", kDomain}, {"activityType", type}}).fault(),
            Fault::kTypeDeprecated);
  const Json info = Ok("DescribeActivityType", {{"domain", kDomain}, {"activityType", type}});
  EXPECT_EQ(info["typeInfo"]["status"], "DEPRECATED");
  EXPECT_EQ(info["typeInfo"]["deprecationDate"], T0() + 5);
  Ok("UndeprecateActivityType", {{"domain", kDomain}, {"activityType", type}});
  Ok("DeprecateActivityType", {{"domain", kDomain}, {"activityType", type}});
  Ok("DeleteActivityType", {{"domain", kDomain}, {"activityType", type}});
  EXPECT_EQ(Call("DescribeActivityType", {{"domain", kDomain}, {"activityType", type}}).fault(),
            Fault::kUnknownResource);
}

TEST_F(Registration, Tags) {
  RegisterDomain();
  const std::string arn = Ok("DescribeDomain", {{"name", kDomain}})["domainInfo"]["arn"];
  Ok("TagResource", {{"resourceArn", arn}, {"tags", {{{"key", "team"}, {"value", "a"}}}}});
  EXPECT_EQ(Ok("ListTagsForResource", {{"resourceArn", arn}})["tags"],
            Json::parse(R"([{"key":"team","value":"a"}])"));
  Ok("UntagResource", {{"resourceArn", arn}, {"tagKeys", {"team"}}});
  EXPECT_EQ(Ok("ListTagsForResource", {{"resourceArn", arn}})["tags"], Json::array());
  EXPECT_EQ(Call("ListTagsForResource", {{"resourceArn", "arn:aws:swf:x:1:/domain/zz"}}).fault(),
            Fault::kUnknownResource);
}

TEST_F(Registration, UnknownOperation) {
  EXPECT_EQ(Call("MakeCoffee", Json::object()).fault(), Fault::kUnknownOperation);
}

// --- StartWorkflowExecution ----------------------------------------------------------

using StartExecution = EngineFixture;

TEST_F(StartExecution, WritesStartedAndDecisionScheduled) {
  RegisterTypes();
  const std::string run_id =
      Start("w1", {{"input", "in"}, {"tagList", {"t1"}}, {"taskPriority", "3"}});
  EXPECT_EQ(run_id.size(), 44u);
  const Json events = History("w1", run_id);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0], Json::parse(R"({
    "eventId": 1, "eventTimestamp": 1767225600.0, "eventType": "WorkflowExecutionStarted",
    "workflowExecutionStartedEventAttributes": {
      "input": "in", "executionStartToCloseTimeout": "3600", "taskStartToCloseTimeout": "30",
      "childPolicy": "TERMINATE", "taskList": {"name": "decisions"}, "taskPriority": "3",
      "workflowType": {"name": "wf", "version": "1"}, "tagList": ["t1"]}})"));
  EXPECT_EQ(events[1], Json::parse(R"({
    "eventId": 2, "eventTimestamp": 1767225600.0, "eventType": "DecisionTaskScheduled",
    "decisionTaskScheduledEventAttributes": {
      "taskList": {"name": "decisions"}, "startToCloseTimeout": "30", "taskPriority": "3"}})"));
}

TEST_F(StartExecution, Faults) {
  RegisterTypes();
  const std::string run_id = Start("w1");
  auto twice =
      Call("StartWorkflowExecution", {{"domain", kDomain},
                                      {"workflowId", "w1"},
                                      {"workflowType", {{"name", "wf"}, {"version", "1"}}}});
  EXPECT_EQ(twice.fault(), Fault::kWorkflowExecutionAlreadyStarted);
  auto unknown =
      Call("StartWorkflowExecution", {{"domain", kDomain},
                                      {"workflowId", "w2"},
                                      {"workflowType", {{"name", "wf"}, {"version", "9"}}}});
  EXPECT_EQ(unknown.fault(), Fault::kUnknownResource);
  auto no_domain =
      Call("StartWorkflowExecution", {{"domain", "x"},
                                      {"workflowId", "w2"},
                                      {"workflowType", {{"name", "wf"}, {"version", "1"}}}});
  EXPECT_EQ(no_domain.fault(), Fault::kUnknownResource);
  auto invalid_name =
      Call("StartWorkflowExecution", {{"domain", kDomain},
                                      {"workflowId", "a:b"},
                                      {"workflowType", {{"name", "wf"}, {"version", "1"}}}});
  EXPECT_EQ(invalid_name.fault(), Fault::kValidation);
  auto none_timeout =
      Call("StartWorkflowExecution", {{"domain", kDomain},
                                      {"workflowId", "w3"},
                                      {"executionStartToCloseTimeout", "NONE"},
                                      {"workflowType", {{"name", "wf"}, {"version", "1"}}}});
  EXPECT_EQ(none_timeout.fault(), Fault::kValidation);
  // After the run closes, the workflowId is free again.
  Ok("TerminateWorkflowExecution", {{"domain", kDomain}, {"workflowId", "w1"}});
  EXPECT_NE(Start("w1"), run_id);
}

TEST_F(StartExecution, DefaultUndefined) {
  RegisterDomain();
  Ok("RegisterWorkflowType", {{"domain", kDomain}, {"name", "bare"}, {"version", "1"}});
  Json request{{"domain", kDomain},
               {"workflowId", "w"},
               {"workflowType", {{"name", "bare"}, {"version", "1"}}},
               {"taskList", {{"name", "tl"}}},
               {"executionStartToCloseTimeout", "60"},
               {"taskStartToCloseTimeout", "NONE"},
               {"childPolicy", "ABANDON"}};
  for (const char* field :
       {"taskList", "executionStartToCloseTimeout", "taskStartToCloseTimeout", "childPolicy"}) {
    Json partial = request;
    partial.erase(field);
    auto r = Call("StartWorkflowExecution", partial);
    EXPECT_EQ(r.fault(), Fault::kDefaultUndefined) << field;
    EXPECT_NE(r.status().message().find(field), std::string::npos) << r.status().message();
  }
  Ok("StartWorkflowExecution", request);
}

TEST_F(StartExecution, DeprecatedTypeAndDomain) {
  RegisterTypes();
  Ok("DeprecateWorkflowType",
     {{"domain", kDomain}, {"workflowType", {{"name", "wf"}, {"version", "1"}}}});
  auto r = Call("StartWorkflowExecution", {{"domain", kDomain},
                                           {"workflowId", "w"},
                                           {"workflowType", {{"name", "wf"}, {"version", "1"}}}});
  EXPECT_EQ(r.fault(), Fault::kTypeDeprecated);
  Ok("DeprecateDomain", {{"name", kDomain}});
  auto in_deprecated =
      Call("StartWorkflowExecution", {{"domain", kDomain},
                                      {"workflowId", "w"},
                                      {"workflowType", {{"name", "wf"}, {"version", "1"}}}});
  EXPECT_EQ(in_deprecated.fault(), Fault::kDomainDeprecated);
  // Deprecating the domain deprecated its types.
  const Json types =
      Ok("ListActivityTypes", {{"domain", kDomain}, {"registrationStatus", "DEPRECATED"}});
  EXPECT_EQ(types["typeInfos"].size(), 1u);
}

// --- the full round trip ---------------------------------------------------------------

using RoundTrip = EngineFixture;

TEST_F(RoundTrip, DecisionPollActivityAndCompletion) {
  RegisterTypes();
  const std::string run_id = Start("w", {{"input", "wf-input"}});

  const Json task = PollDecision();
  ASSERT_TRUE(swf::HasTask(task));
  EXPECT_EQ(task["startedEventId"], 3);
  EXPECT_EQ(task["previousStartedEventId"], 0);
  EXPECT_EQ(task["workflowExecution"], Json({{"workflowId", "w"}, {"runId", run_id}}));
  EXPECT_EQ(task["workflowType"], Json({{"name", "wf"}, {"version", "1"}}));
  EXPECT_EQ(TypesOf(task["events"]),
            (std::vector<std::string>{"WorkflowExecutionStarted", "DecisionTaskScheduled",
                                      "DecisionTaskStarted"}));
  EXPECT_EQ(task["events"][2]["decisionTaskStartedEventAttributes"],
            Json({{"identity", "decider"}, {"scheduledEventId", 2}}));
  EXPECT_FALSE(task.contains("nextPageToken"));

  clock_->AdvanceSeconds(1);
  ASSERT_TRUE(Decide(task, {ScheduleActivity("a1", {{"input", "act-input"}, {"control", "c"}})},
                     {{"executionContext", "ctx"}})
                  .ok());
  EXPECT_EQ(Attributes("w", run_id, 4),
            Json({{"scheduledEventId", 2}, {"startedEventId", 3}, {"executionContext", "ctx"}}));
  EXPECT_EQ(Attributes("w", run_id, 5), Json::parse(R"({
      "activityType": {"name": "act", "version": "1"}, "activityId": "a1", "input": "act-input",
      "control": "c", "scheduleToStartTimeout": "60", "scheduleToCloseTimeout": "600",
      "startToCloseTimeout": "300", "heartbeatTimeout": "NONE",
      "taskList": {"name": "activities"}, "decisionTaskCompletedEventId": 4})"));

  const Json activity = PollActivity();
  ASSERT_TRUE(swf::HasTask(activity));
  EXPECT_EQ(activity["activityId"], "a1");
  EXPECT_EQ(activity["startedEventId"], 6);
  EXPECT_EQ(activity["input"], "act-input");
  EXPECT_EQ(activity["activityType"], Json({{"name", "act"}, {"version", "1"}}));
  EXPECT_EQ(activity["workflowExecution"], Json({{"workflowId", "w"}, {"runId", run_id}}));
  EXPECT_EQ(Attributes("w", run_id, 6), Json({{"identity", "worker"}, {"scheduledEventId", 5}}));

  EXPECT_EQ(Ok("RecordActivityTaskHeartbeat", {{"taskToken", activity["taskToken"]}}),
            Json({{"cancelRequested", false}}));
  clock_->AdvanceSeconds(2);
  Ok("RespondActivityTaskCompleted", {{"taskToken", activity["taskToken"]}, {"result", "r"}});
  EXPECT_EQ(Attributes("w", run_id, 7),
            Json({{"result", "r"}, {"scheduledEventId", 5}, {"startedEventId", 6}}));
  EXPECT_EQ(History("w", run_id)[6]["eventTimestamp"], T0() + 3);
  EXPECT_EQ(EventTypes("w", run_id).back(), "DecisionTaskScheduled");

  const Json second = PollDecision();
  EXPECT_EQ(second["previousStartedEventId"], 3);
  EXPECT_EQ(second["startedEventId"], 9);
  const Json described = Describe("w", run_id);
  EXPECT_EQ(described["latestExecutionContext"], "ctx");
  EXPECT_EQ(described["latestActivityTaskTimestamp"], T0() + 1);
  EXPECT_EQ(described["openCounts"]["openDecisionTasks"], 1);

  ASSERT_TRUE(Decide(second, {CompleteWorkflow("fin")}).ok());
  EXPECT_EQ(EventTypes("w", run_id),
            (std::vector<std::string>{
                "WorkflowExecutionStarted", "DecisionTaskScheduled", "DecisionTaskStarted",
                "DecisionTaskCompleted", "ActivityTaskScheduled", "ActivityTaskStarted",
                "ActivityTaskCompleted", "DecisionTaskScheduled", "DecisionTaskStarted",
                "DecisionTaskCompleted", "WorkflowExecutionCompleted"}));
  EXPECT_EQ(Attributes("w", run_id, 11),
            Json({{"result", "fin"}, {"decisionTaskCompletedEventId", 10}}));
  const Json closed = Describe("w", run_id);
  EXPECT_EQ(closed["executionInfo"]["executionStatus"], "CLOSED");
  EXPECT_EQ(closed["executionInfo"]["closeStatus"], "COMPLETED");
  EXPECT_EQ(closed["executionInfo"]["closeTimestamp"], T0() + 3);
  EXPECT_EQ(closed["openCounts"], Json({{"openActivityTasks", 0},
                                        {"openDecisionTasks", 0},
                                        {"openTimers", 0},
                                        {"openChildWorkflowExecutions", 0},
                                        {"openLambdaFunctions", 0}}));
}

TEST_F(RoundTrip, DescribeOpenExecution) {
  RegisterTypes();
  const std::string run_id =
      Start("w", {{"tagList", {"x", "y"}}, {"taskList", {{"name", "other"}}}});
  const Json detail = Describe("w", run_id);
  EXPECT_EQ(detail["executionInfo"], Json::parse(R"({
      "execution": {"workflowId": "w", "runId": ")" +
                                                 run_id + R"("},
      "workflowType": {"name": "wf", "version": "1"}, "startTimestamp": 1767225600.0,
      "executionStatus": "OPEN", "cancelRequested": false, "tagList": ["x", "y"]})"));
  EXPECT_EQ(detail["executionConfiguration"], Json::parse(R"({
      "taskStartToCloseTimeout": "30", "executionStartToCloseTimeout": "3600",
      "taskList": {"name": "other"}, "childPolicy": "TERMINATE"})"));
  EXPECT_EQ(detail["openCounts"]["openDecisionTasks"], 1);
  EXPECT_EQ(Call("DescribeWorkflowExecution",
                 {{"domain", kDomain}, {"execution", {{"workflowId", "w"}, {"runId", "nope"}}}})
                .fault(),
            Fault::kUnknownResource);
}

TEST_F(RoundTrip, FailWorkflowAndActivityFailure) {
  RegisterTypes();
  const std::string run_id = Start("w");
  ASSERT_TRUE(Decide(PollDecision(), {ScheduleActivity("a")}).ok());
  const Json activity = PollActivity();
  Ok("RespondActivityTaskFailed",
     {{"taskToken", activity["taskToken"]}, {"reason", "boom"}, {"details", "trace"}});
  EXPECT_EQ(Attributes("w", run_id, 7), Json({{"reason", "boom"},
                                              {"details", "trace"},
                                              {"scheduledEventId", 5},
                                              {"startedEventId", 6}}));
  const Json task = PollDecision();
  ASSERT_TRUE(Decide(task, {{{"decisionType", "FailWorkflowExecution"},
                             {"failWorkflowExecutionDecisionAttributes",
                              {{"reason", "r"}, {"details", "d"}}}}})
                  .ok());
  EXPECT_EQ(Attributes("w", run_id, 11),
            Json({{"reason", "r"}, {"details", "d"}, {"decisionTaskCompletedEventId", 10}}));
  EXPECT_EQ(Describe("w", run_id)["executionInfo"]["closeStatus"], "FAILED");
}

// --- decisions ----------------------------------------------------------------------------

using Decisions = EngineFixture;

TEST_F(Decisions, BatchingTwoCompletionsWhileStarted) {
  RegisterTypes();
  const std::string run_id = Start("w");
  ASSERT_TRUE(Decide(PollDecision(), {ScheduleActivity("a"), ScheduleActivity("b")}).ok());
  const Json a = PollActivity();
  const Json b = PollActivity();
  Ok("RespondActivityTaskCompleted", {{"taskToken", a["taskToken"]}});
  const Json task = PollDecision();  // started: 11
  Ok("RespondActivityTaskCompleted", {{"taskToken", b["taskToken"]}});
  Ok("SignalWorkflowExecution", {{"domain", kDomain}, {"workflowId", "w"}, {"signalName", "s"}});
  // No new DecisionTaskScheduled while the task is started.
  EXPECT_EQ(Ok("CountPendingDecisionTasks",
               {{"domain", kDomain}, {"taskList", {{"name", kDecisionList}}}}),
            Json({{"count", 0}, {"truncated", false}}));
  ASSERT_TRUE(Decide(task, {{{"decisionType", "RecordMarker"},
                             {"recordMarkerDecisionAttributes", {{"markerName", "m"}}}}})
                  .ok());
  const auto types = EventTypes("w", run_id);
  EXPECT_EQ(std::vector<std::string>(types.begin() + 9, types.end()),
            (std::vector<std::string>{"DecisionTaskScheduled", "DecisionTaskStarted",
                                      "ActivityTaskCompleted", "WorkflowExecutionSignaled",
                                      "DecisionTaskCompleted", "MarkerRecorded",
                                      "DecisionTaskScheduled"}));
  EXPECT_EQ(std::count(types.begin(), types.end(), "DecisionTaskScheduled"), 3);
  const Json next = PollDecision();
  EXPECT_EQ(next["previousStartedEventId"], 11);
}

TEST_F(Decisions, NoDecisionTaskForEventsThatDoNotNeedOne) {
  RegisterTypes();
  const std::string run_id = Start("w");
  ASSERT_TRUE(Decide(PollDecision(),
                     {ScheduleActivity("a"),
                      {{"decisionType", "RecordMarker"},
                       {"recordMarkerDecisionAttributes", {{"markerName", "m"}, {"details", "x"}}}},
                      {{"decisionType", "StartTimer"},
                       {"startTimerDecisionAttributes",
                        {{"timerId", "t"}, {"startToFireTimeout", "100"}}}}})
                  .ok());
  PollActivity();
  EXPECT_EQ(EventTypes("w", run_id),
            (std::vector<std::string>{"WorkflowExecutionStarted", "DecisionTaskScheduled",
                                      "DecisionTaskStarted", "DecisionTaskCompleted",
                                      "ActivityTaskScheduled", "MarkerRecorded", "TimerStarted",
                                      "ActivityTaskStarted"}));
  EXPECT_EQ(Attributes("w", run_id, 6),
            Json({{"markerName", "m"}, {"details", "x"}, {"decisionTaskCompletedEventId", 4}}));
}

TEST_F(Decisions, UnhandledDecision) {
  RegisterTypes();
  const std::string run_id = Start("w");
  const Json task = PollDecision();
  Ok("SignalWorkflowExecution",
     {{"domain", kDomain}, {"workflowId", "w"}, {"signalName", "s"}, {"input", "i"}});
  ASSERT_TRUE(Decide(task, {CompleteWorkflow()}).ok());
  EXPECT_EQ(EventTypes("w", run_id),
            (std::vector<std::string>{"WorkflowExecutionStarted", "DecisionTaskScheduled",
                                      "DecisionTaskStarted", "WorkflowExecutionSignaled",
                                      "DecisionTaskCompleted", "CompleteWorkflowExecutionFailed",
                                      "DecisionTaskScheduled"}));
  EXPECT_EQ(Attributes("w", run_id, 4), Json({{"signalName", "s"}, {"input", "i"}}));
  EXPECT_EQ(Attributes("w", run_id, 6),
            Json({{"cause", "UNHANDLED_DECISION"}, {"decisionTaskCompletedEventId", 5}}));
  EXPECT_EQ(Describe("w", run_id)["executionInfo"]["executionStatus"], "OPEN");
  // With nothing new, the same decision closes the run.
  ASSERT_TRUE(Decide(PollDecision(), {{{"decisionType", "FailWorkflowExecution"}}}).ok());
  EXPECT_EQ(Describe("w", run_id)["executionInfo"]["closeStatus"], "FAILED");
  EXPECT_EQ(EventTypes("w", run_id).back(), "WorkflowExecutionFailed");
}

TEST_F(Decisions, CloseDecisionMustBeLast) {
  RegisterTypes();
  const std::string run_id = Start("w");
  ASSERT_TRUE(Decide(PollDecision(), {CompleteWorkflow(),
                                      {{"decisionType", "RecordMarker"},
                                       {"recordMarkerDecisionAttributes", {{"markerName", "m"}}}}})
                  .ok());
  EXPECT_EQ(EventTypes("w", run_id),
            (std::vector<std::string>{"WorkflowExecutionStarted", "DecisionTaskScheduled",
                                      "DecisionTaskStarted", "DecisionTaskCompleted",
                                      "CompleteWorkflowExecutionFailed", "MarkerRecorded",
                                      "DecisionTaskScheduled"}));
}

TEST_F(Decisions, MalformedDecisionRejectsTheWholeResponse) {
  RegisterTypes();
  const std::string run_id = Start("w");
  const Json task = PollDecision();
  auto missing = Decide(task, {ScheduleActivity("a"), {{"decisionType", "StartTimer"}}});
  EXPECT_EQ(missing.fault(), Fault::kValidation);
  EXPECT_NE(missing.status().message().find("decisions.2.member.startTimerDecisionAttributes"),
            std::string::npos)
      << missing.status().message();
  auto missing_member =
      Decide(task, {{{"decisionType", "ScheduleActivityTask"},
                     {"scheduleActivityTaskDecisionAttributes", {{"activityId", "a"}}}}});
  EXPECT_EQ(missing_member.fault(), Fault::kValidation);
  auto bad_duration = Decide(task, {ScheduleActivity("a", {{"heartbeatTimeout", "x"}})});
  EXPECT_EQ(bad_duration.fault(), Fault::kValidation);
  auto bad_type = Decide(task, {{{"decisionType", "Dance"}}});
  EXPECT_EQ(bad_type.fault(), Fault::kValidation);
  EXPECT_EQ(History("w", run_id).size(), 3u);
  // The task is still open: a good response goes through.
  ASSERT_TRUE(Decide(task, {ScheduleActivity("a")}).ok());
  EXPECT_EQ(History("w", run_id).size(), 5u);
}

TEST_F(Decisions, ScheduleActivityTaskFailedCauses) {
  RegisterTypes();
  Ok("RegisterActivityType", {{"domain", kDomain}, {"name", "bare"}, {"version", "1"}});
  Ok("RegisterActivityType", {{"domain", kDomain}, {"name", "old"}, {"version", "1"}});
  Ok("DeprecateActivityType",
     {{"domain", kDomain}, {"activityType", {{"name", "old"}, {"version", "1"}}}});
  const std::string run_id = Start("w");
  const Json bare{{"activityType", {{"name", "bare"}, {"version", "1"}}}};
  const Json full_list{{"taskList", {{"name", "l"}}}};
  auto schedule = [](const std::string& id, const Json& attributes) {
    Json a = attributes;
    a["activityId"] = id;
    return Json{{"decisionType", "ScheduleActivityTask"},
                {"scheduleActivityTaskDecisionAttributes", a}};
  };
  Json with_list = bare;
  with_list["taskList"] = {{"name", "l"}};
  Json with_s2s = with_list;
  with_s2s["scheduleToStartTimeout"] = "10";
  Json with_s2c = with_s2s;
  with_s2c["scheduleToCloseTimeout"] = "NONE";
  Json with_st2c = with_s2c;
  with_st2c["startToCloseTimeout"] = "10";
  Json complete = with_st2c;
  complete["heartbeatTimeout"] = "NONE";
  const Json decisions = {schedule("1", {{"activityType", {{"name", "nope"}, {"version", "1"}}}}),
                          schedule("2", {{"activityType", {{"name", "old"}, {"version", "1"}}}}),
                          schedule("3", bare),
                          schedule("4", with_list),
                          schedule("5", with_s2s),
                          schedule("6", with_s2c),
                          schedule("7", with_st2c),
                          schedule("8", complete),
                          schedule("8", complete)};
  ASSERT_TRUE(Decide(PollDecision(), decisions).ok());
  const Json events = History("w", run_id);
  const std::vector<std::string> causes = {
      "ACTIVITY_TYPE_DOES_NOT_EXIST",
      "ACTIVITY_TYPE_DEPRECATED",
      "DEFAULT_TASK_LIST_UNDEFINED",
      "DEFAULT_SCHEDULE_TO_START_TIMEOUT_UNDEFINED",
      "DEFAULT_SCHEDULE_TO_CLOSE_TIMEOUT_UNDEFINED",
      "DEFAULT_START_TO_CLOSE_TIMEOUT_UNDEFINED",
      "DEFAULT_HEARTBEAT_TIMEOUT_UNDEFINED",
  };
  for (std::size_t i = 0; i < causes.size(); ++i) {
    const Json& event = events[4 + i];
    EXPECT_EQ(event["eventType"], "ScheduleActivityTaskFailed");
    EXPECT_EQ(event["scheduleActivityTaskFailedEventAttributes"]["cause"], causes[i]);
    EXPECT_EQ(event["scheduleActivityTaskFailedEventAttributes"]["activityId"],
              std::to_string(i + 1));
    EXPECT_EQ(event["scheduleActivityTaskFailedEventAttributes"]["decisionTaskCompletedEventId"],
              4);
  }
  EXPECT_EQ(events[11]["eventType"], "ActivityTaskScheduled");
  EXPECT_EQ(events[12]["eventType"], "ScheduleActivityTaskFailed");
  EXPECT_EQ(events[12]["scheduleActivityTaskFailedEventAttributes"]["cause"],
            "ACTIVITY_ID_ALREADY_IN_USE");
  EXPECT_EQ(events[12]["scheduleActivityTaskFailedEventAttributes"]["activityType"],
            Json({{"name", "bare"}, {"version", "1"}}));
  // The failures asked for one new decision task, after the decisions.
  EXPECT_EQ(events[13]["eventType"], "DecisionTaskScheduled");
  EXPECT_EQ(events.size(), 14u);
}

TEST_F(Decisions, ActivityIdReusableAfterClose) {
  RegisterTypes();
  const std::string run_id = Start("w");
  ASSERT_TRUE(Decide(PollDecision(), {ScheduleActivity("a")}).ok());
  Ok("RespondActivityTaskCompleted", {{"taskToken", PollActivity()["taskToken"]}});
  ASSERT_TRUE(Decide(PollDecision(), {ScheduleActivity("a")}).ok());
  EXPECT_EQ(EventTypes("w", run_id).back(), "ActivityTaskScheduled");
}

TEST_F(Decisions, OpenActivitiesLimit) {
  RegisterTypes();
  const std::string run_id = Start("w");
  Json decisions = Json::array();
  for (int i = 0; i <= 1000; ++i) decisions.push_back(ScheduleActivity("a" + std::to_string(i)));
  ASSERT_TRUE(Decide(PollDecision(), decisions).ok());
  const Json events = History("w", run_id);
  EXPECT_EQ(events[1004]["eventType"], "ScheduleActivityTaskFailed");
  EXPECT_EQ(events[1004]["scheduleActivityTaskFailedEventAttributes"]["cause"],
            "OPEN_ACTIVITIES_LIMIT_EXCEEDED");
  EXPECT_EQ(Describe("w", run_id)["openCounts"]["openActivityTasks"], 1000);
}

TEST_F(Decisions, ScheduleLambdaFunctionFails) {
  RegisterTypes();
  const std::string run_id = Start("w");
  ASSERT_TRUE(Decide(PollDecision(), {{{"decisionType", "ScheduleLambdaFunction"},
                                       {"scheduleLambdaFunctionDecisionAttributes",
                                        {{"id", "l1"}, {"name", "fn"}}}}})
                  .ok());
  EXPECT_EQ(Attributes("w", run_id, 5), Json({{"id", "l1"},
                                              {"name", "fn"},
                                              {"cause", "LAMBDA_SERVICE_NOT_AVAILABLE_IN_REGION"},
                                              {"decisionTaskCompletedEventId", 4}}));
  EXPECT_EQ(EventTypes("w", run_id).back(), "DecisionTaskScheduled");
}

TEST_F(Decisions, RequestCancelActivityTask) {
  RegisterTypes();
  const std::string run_id = Start("w");
  ASSERT_TRUE(
      Decide(PollDecision(), {ScheduleActivity("started"), ScheduleActivity("queued")}).ok());
  const Json started = PollActivity();  // FIFO: "started" (5) goes out, "queued" (6) stays
  ASSERT_EQ(started["activityId"], "started");
  Ok("SignalWorkflowExecution", {{"domain", kDomain}, {"workflowId", "w"}, {"signalName", "s"}});
  const auto cancel = [](const std::string& id) {
    return Json{{"decisionType", "RequestCancelActivityTask"},
                {"requestCancelActivityTaskDecisionAttributes", {{"activityId", id}}}};
  };
  ASSERT_TRUE(Decide(PollDecision(), {cancel("started"), cancel("queued"), cancel("nope")}).ok());
  const auto types = EventTypes("w", run_id);
  EXPECT_EQ(std::vector<std::string>(types.begin() + 10, types.end()),
            (std::vector<std::string>{"DecisionTaskCompleted", "ActivityTaskCancelRequested",
                                      "ActivityTaskCancelRequested", "ActivityTaskCanceled",
                                      "RequestCancelActivityTaskFailed", "DecisionTaskScheduled"}));
  EXPECT_EQ(Attributes("w", run_id, 12),
            Json({{"activityId", "started"}, {"decisionTaskCompletedEventId", 11}}));
  // The queued one was canceled at once and left its task list.
  EXPECT_EQ(
      Attributes("w", run_id, 14),
      Json({{"scheduledEventId", 6}, {"startedEventId", 0}, {"latestCancelRequestedEventId", 13}}));
  EXPECT_EQ(Attributes("w", run_id, 15), Json({{"activityId", "nope"},
                                               {"cause", "ACTIVITY_ID_UNKNOWN"},
                                               {"decisionTaskCompletedEventId", 11}}));
  EXPECT_EQ(Ok("CountPendingActivityTasks",
               {{"domain", kDomain}, {"taskList", {{"name", kActivityList}}}})["count"],
            0);
  // The started one hears of the request on its next heartbeat.
  EXPECT_EQ(Ok("RecordActivityTaskHeartbeat", {{"taskToken", started["taskToken"]}}),
            Json({{"cancelRequested", true}}));
  Ok("RespondActivityTaskCanceled", {{"taskToken", started["taskToken"]}, {"details", "bye"}});
  EXPECT_EQ(Attributes("w", run_id, 17), Json({{"details", "bye"},
                                               {"scheduledEventId", 5},
                                               {"startedEventId", 7},
                                               {"latestCancelRequestedEventId", 12}}));
  EXPECT_EQ(History("w", run_id).size(), 17u);
}

TEST_F(Decisions, Timers) {
  RegisterTypes();
  const std::string run_id = Start("w");
  ASSERT_TRUE(
      Decide(PollDecision(),
             {{{"decisionType", "StartTimer"},
               {"startTimerDecisionAttributes",
                {{"timerId", "t1"}, {"startToFireTimeout", "10"}, {"control", "c"}}}},
              {{"decisionType", "StartTimer"},
               {"startTimerDecisionAttributes", {{"timerId", "t2"}, {"startToFireTimeout", "20"}}}},
              {{"decisionType", "StartTimer"},
               {"startTimerDecisionAttributes", {{"timerId", "t2"}, {"startToFireTimeout", "5"}}}}})
          .ok());
  EXPECT_EQ(Attributes("w", run_id, 5), Json({{"timerId", "t1"},
                                              {"control", "c"},
                                              {"startToFireTimeout", "10"},
                                              {"decisionTaskCompletedEventId", 4}}));
  EXPECT_EQ(Attributes("w", run_id, 7), Json({{"timerId", "t2"},
                                              {"cause", "TIMER_ID_ALREADY_IN_USE"},
                                              {"decisionTaskCompletedEventId", 4}}));
  ASSERT_TRUE(Decide(PollDecision(), {{{"decisionType", "CancelTimer"},
                                       {"cancelTimerDecisionAttributes", {{"timerId", "t2"}}}},
                                      {{"decisionType", "CancelTimer"},
                                       {"cancelTimerDecisionAttributes", {{"timerId", "zz"}}}}})
                  .ok());
  EXPECT_EQ(Attributes("w", run_id, 11),
            Json({{"timerId", "t2"}, {"startedEventId", 6}, {"decisionTaskCompletedEventId", 10}}));
  EXPECT_EQ(Attributes("w", run_id, 12), Json({{"timerId", "zz"},
                                               {"cause", "TIMER_ID_UNKNOWN"},
                                               {"decisionTaskCompletedEventId", 10}}));
  ASSERT_TRUE(Decide(PollDecision(), Json::array()).ok());
  EXPECT_EQ(Describe("w", run_id)["openCounts"]["openTimers"], 1);
  clock_->AdvanceSeconds(9);
  EXPECT_EQ(EventTypes("w", run_id).back(), "DecisionTaskCompleted");
  clock_->AdvanceSeconds(1);
  const Json events = History("w", run_id);
  EXPECT_EQ(events[15]["eventType"], "TimerFired");
  EXPECT_EQ(events[15]["eventTimestamp"], T0() + 10);
  EXPECT_EQ(events[15]["timerFiredEventAttributes"],
            Json({{"timerId", "t1"}, {"startedEventId", 5}}));
  EXPECT_EQ(events[16]["eventType"], "DecisionTaskScheduled");
  EXPECT_EQ(events.size(), 17u);
  // t2 was cancelled: it never fires.
  clock_->AdvanceSeconds(100);
  EXPECT_EQ(History("w", run_id).size(), 17u);
  // The timer id is free again.
  ASSERT_TRUE(Decide(PollDecision(), {{{"decisionType", "StartTimer"},
                                       {"startTimerDecisionAttributes",
                                        {{"timerId", "t1"}, {"startToFireTimeout", "1"}}}}})
                  .ok());
  EXPECT_EQ(EventTypes("w", run_id).back(), "TimerStarted");
}

TEST_F(Decisions, CancelWorkflowAfterCancelRequest) {
  RegisterTypes();
  const std::string run_id = Start("w");
  ASSERT_TRUE(Decide(PollDecision(), Json::array()).ok());
  Ok("RequestCancelWorkflowExecution", {{"domain", kDomain}, {"workflowId", "w"}});
  Ok("RequestCancelWorkflowExecution", {{"domain", kDomain}, {"workflowId", "w"}});
  EXPECT_EQ(Attributes("w", run_id, 5), Json::object());
  EXPECT_TRUE(Describe("w", run_id)["executionInfo"]["cancelRequested"].get<bool>());
  ASSERT_TRUE(
      Decide(PollDecision(), {{{"decisionType", "CancelWorkflowExecution"},
                               {"cancelWorkflowExecutionDecisionAttributes", {{"details", "ok"}}}}})
          .ok());
  EXPECT_EQ(
      EventTypes("w", run_id),
      (std::vector<std::string>{
          "WorkflowExecutionStarted", "DecisionTaskScheduled", "DecisionTaskStarted",
          "DecisionTaskCompleted", "WorkflowExecutionCancelRequested", "DecisionTaskScheduled",
          "DecisionTaskStarted", "DecisionTaskCompleted", "WorkflowExecutionCanceled"}));
  EXPECT_EQ(Attributes("w", run_id, 9),
            Json({{"details", "ok"}, {"decisionTaskCompletedEventId", 8}}));
  EXPECT_EQ(Describe("w", run_id)["executionInfo"]["closeStatus"], "CANCELED");
}

TEST_F(Decisions, ContinueAsNew) {
  RegisterTypes();
  const std::string run_id = Start("w");
  ASSERT_TRUE(Decide(PollDecision(), {{{"decisionType", "ContinueAsNewWorkflowExecution"},
                                       {"continueAsNewWorkflowExecutionDecisionAttributes",
                                        {{"input", "again"}, {"tagList", {"t"}}}}}})
                  .ok());
  const Json attributes = Attributes("w", run_id, 5);
  const std::string new_run = attributes["newExecutionRunId"];
  EXPECT_NE(new_run, run_id);
  EXPECT_EQ(attributes, Json::parse(R"({
      "input": "again", "decisionTaskCompletedEventId": 4, "newExecutionRunId": ")" +
                                    new_run + R"(",
      "executionStartToCloseTimeout": "3600", "taskList": {"name": "decisions"},
      "taskStartToCloseTimeout": "30", "childPolicy": "TERMINATE", "tagList": ["t"],
      "workflowType": {"name": "wf", "version": "1"}})"));
  EXPECT_EQ(Describe("w", run_id)["executionInfo"]["closeStatus"], "CONTINUED_AS_NEW");
  const Json started = Attributes("w", new_run, 1);
  EXPECT_EQ(started["continuedExecutionRunId"], run_id);
  EXPECT_EQ(started["input"], "again");
  const Json task = PollDecision();
  EXPECT_EQ(task["workflowExecution"]["runId"], new_run);
  // Signals without runId reach the new run.
  Ok("SignalWorkflowExecution", {{"domain", kDomain}, {"workflowId", "w"}, {"signalName", "s"}});
  EXPECT_EQ(EventTypes("w", new_run).back(), "WorkflowExecutionSignaled");
}

TEST_F(Decisions, SignalAndCancelExternal) {
  RegisterTypes();
  const std::string a = Start("a");
  const std::string b = Start("b");
  const Json task_a = PollDecision();
  ASSERT_EQ(task_a["workflowExecution"]["workflowId"], "a");
  ASSERT_TRUE(
      Decide(task_a, {{{"decisionType", "SignalExternalWorkflowExecution"},
                       {"signalExternalWorkflowExecutionDecisionAttributes",
                        {{"workflowId", "b"}, {"signalName", "hello"}, {"input", "x"}}}},
                      {{"decisionType", "SignalExternalWorkflowExecution"},
                       {"signalExternalWorkflowExecutionDecisionAttributes",
                        {{"workflowId", "nobody"}, {"signalName", "hello"}, {"control", "c"}}}},
                      {{"decisionType", "RequestCancelExternalWorkflowExecution"},
                       {"requestCancelExternalWorkflowExecutionDecisionAttributes",
                        {{"workflowId", "b"}, {"runId", b}}}}})
          .ok());
  EXPECT_EQ(EventTypes("a", a),
            (std::vector<std::string>{
                "WorkflowExecutionStarted", "DecisionTaskScheduled", "DecisionTaskStarted",
                "DecisionTaskCompleted", "SignalExternalWorkflowExecutionInitiated",
                "SignalExternalWorkflowExecutionInitiated",
                "RequestCancelExternalWorkflowExecutionInitiated",
                "ExternalWorkflowExecutionSignaled", "SignalExternalWorkflowExecutionFailed",
                "ExternalWorkflowExecutionCancelRequested", "DecisionTaskScheduled"}));
  EXPECT_EQ(Attributes("a", a, 8), Json({{"workflowExecution", {{"workflowId", "b"}, {"runId", b}}},
                                         {"initiatedEventId", 5}}));
  EXPECT_EQ(Attributes("a", a, 9), Json({{"workflowId", "nobody"},
                                         {"cause", "UNKNOWN_EXTERNAL_WORKFLOW_EXECUTION"},
                                         {"initiatedEventId", 6},
                                         {"decisionTaskCompletedEventId", 4},
                                         {"control", "c"}}));
  EXPECT_EQ(
      EventTypes("b", b),
      (std::vector<std::string>{"WorkflowExecutionStarted", "DecisionTaskScheduled",
                                "WorkflowExecutionSignaled", "WorkflowExecutionCancelRequested"}));
  EXPECT_EQ(Attributes("b", b, 3),
            Json({{"signalName", "hello"},
                  {"input", "x"},
                  {"externalWorkflowExecution", {{"workflowId", "a"}, {"runId", a}}},
                  {"externalInitiatedEventId", 5}}));
  EXPECT_EQ(Attributes("b", b, 4),
            Json({{"externalWorkflowExecution", {{"workflowId", "a"}, {"runId", a}}},
                  {"externalInitiatedEventId", 7}}));
}

TEST_F(Decisions, ChildWorkflows) {
  RegisterTypes();
  const std::string parent = Start("p");
  ASSERT_TRUE(
      Decide(PollDecision(),
             {{{"decisionType", "StartChildWorkflowExecution"},
               {"startChildWorkflowExecutionDecisionAttributes",
                {{"workflowType", {{"name", "wf"}, {"version", "1"}}},
                 {"workflowId", "c"},
                 {"input", "ci"}}}},
              {{"decisionType", "StartChildWorkflowExecution"},
               {"startChildWorkflowExecutionDecisionAttributes",
                {{"workflowType", {{"name", "wf"}, {"version", "1"}}}, {"workflowId", "p"}}}},
              {{"decisionType", "StartChildWorkflowExecution"},
               {"startChildWorkflowExecutionDecisionAttributes",
                {{"workflowType", {{"name", "zz"}, {"version", "1"}}}, {"workflowId", "q"}}}}})
          .ok());
  EXPECT_EQ(EventTypes("p", parent),
            (std::vector<std::string>{
                "WorkflowExecutionStarted", "DecisionTaskScheduled", "DecisionTaskStarted",
                "DecisionTaskCompleted", "StartChildWorkflowExecutionInitiated",
                "StartChildWorkflowExecutionInitiated", "StartChildWorkflowExecutionFailed",
                "ChildWorkflowExecutionStarted", "StartChildWorkflowExecutionFailed",
                "DecisionTaskScheduled"}));
  EXPECT_EQ(Attributes("p", parent, 7)["cause"], "WORKFLOW_TYPE_DOES_NOT_EXIST");
  EXPECT_EQ(Attributes("p", parent, 9)["cause"], "WORKFLOW_ALREADY_RUNNING");
  EXPECT_EQ(Attributes("p", parent, 9)["initiatedEventId"], 6);
  const Json started = Attributes("p", parent, 8);
  const std::string child = started["workflowExecution"]["runId"];
  EXPECT_EQ(started["initiatedEventId"], 5);
  const Json child_started = Attributes("c", child, 1);
  EXPECT_EQ(child_started["parentWorkflowExecution"],
            Json({{"workflowId", "p"}, {"runId", parent}}));
  EXPECT_EQ(child_started["parentInitiatedEventId"], 5);
  EXPECT_EQ(Describe("p", parent)["openCounts"]["openChildWorkflowExecutions"], 1);
  EXPECT_EQ(Describe("c", child)["executionInfo"]["parent"],
            Json({{"workflowId", "p"}, {"runId", parent}}));

  // Both decision tasks are on one list: the child's was queued first.
  const Json child_task = PollDecision();
  ASSERT_EQ(child_task["workflowExecution"]["runId"], child);
  ASSERT_TRUE(Decide(child_task, {CompleteWorkflow("child-result")}).ok());
  // The parent's decision task is still scheduled: no second one.
  const auto types = EventTypes("p", parent);
  EXPECT_EQ(std::vector<std::string>(types.begin() + 9, types.end()),
            (std::vector<std::string>{"DecisionTaskScheduled", "ChildWorkflowExecutionCompleted"}));
  EXPECT_EQ(Describe("p", parent)["openCounts"]["openChildWorkflowExecutions"], 0);
}

TEST_F(Decisions, ChildCompletionAndTerminationPolicy) {
  RegisterTypes();
  const std::string parent = Start("p");
  const Json start_child{{"decisionType", "StartChildWorkflowExecution"},
                         {"startChildWorkflowExecutionDecisionAttributes",
                          {{"workflowType", {{"name", "wf"}, {"version", "1"}}},
                           {"workflowId", "c"},
                           {"taskList", {{"name", "children"}}}}}};
  ASSERT_TRUE(Decide(PollDecision(), {start_child}).ok());
  const std::string child = Attributes("p", parent, 6)["workflowExecution"]["runId"];
  const Json child_task =
      Now("PollForDecisionTask", {{"domain", kDomain}, {"taskList", {{"name", "children"}}}});
  ASSERT_TRUE(Decide(child_task, {CompleteWorkflow("child-result")}).ok());
  const Json events = History("p", parent);
  const Json& last = events.back();
  EXPECT_EQ(last["eventType"], "ChildWorkflowExecutionCompleted");
  EXPECT_EQ(last["childWorkflowExecutionCompletedEventAttributes"],
            Json({{"result", "child-result"},
                  {"workflowExecution", {{"workflowId", "c"}, {"runId", child}}},
                  {"workflowType", {{"name", "wf"}, {"version", "1"}}},
                  {"initiatedEventId", 5},
                  {"startedEventId", 6}}));

  // A second child, then the parent is terminated: TERMINATE applies.
  ASSERT_TRUE(Decide(PollDecision(), {start_child}).ok());
  EXPECT_EQ(EventTypes("p", parent).back(), "DecisionTaskScheduled");
  const std::string child2 = Attributes("p", parent, 12)["workflowExecution"]["runId"];
  Ok("TerminateWorkflowExecution", {{"domain", kDomain}, {"workflowId", "p"}, {"reason", "stop"}});
  const Json child_events = History("c", child2);
  EXPECT_EQ(child_events.back()["eventType"], "WorkflowExecutionTerminated");
  EXPECT_EQ(child_events.back()["workflowExecutionTerminatedEventAttributes"],
            Json({{"childPolicy", "TERMINATE"}, {"cause", "CHILD_POLICY_APPLIED"}}));
}

// --- executions from outside --------------------------------------------------------------

using Executions = EngineFixture;

TEST_F(Executions, TerminateAndClosedRunBehaviour) {
  RegisterTypes();
  const std::string run_id = Start("w");
  ASSERT_TRUE(Decide(PollDecision(), {ScheduleActivity("a"), ScheduleActivity("b")}).ok());
  const Json activity = PollActivity();
  Ok("TerminateWorkflowExecution", {{"domain", kDomain},
                                    {"workflowId", "w"},
                                    {"reason", "r"},
                                    {"details", "d"},
                                    {"childPolicy", "ABANDON"}});
  EXPECT_EQ(EventTypes("w", run_id).back(), "WorkflowExecutionTerminated");
  EXPECT_EQ(History("w", run_id).back()["workflowExecutionTerminatedEventAttributes"],
            Json({{"reason", "r"},
                  {"details", "d"},
                  {"childPolicy", "ABANDON"},
                  {"cause", "OPERATOR_INITIATED"}}));
  const std::size_t size = History("w", run_id).size();
  // Its tasks are gone and its tokens dead.
  EXPECT_EQ(Ok("CountPendingActivityTasks",
               {{"domain", kDomain}, {"taskList", {{"name", kActivityList}}}})["count"],
            0);
  EXPECT_EQ(Call("RespondActivityTaskCompleted", {{"taskToken", activity["taskToken"]}}).fault(),
            Fault::kUnknownResource);
  EXPECT_EQ(Call("RecordActivityTaskHeartbeat", {{"taskToken", activity["taskToken"]}}).fault(),
            Fault::kUnknownResource);
  EXPECT_EQ(Call("SignalWorkflowExecution",
                 {{"domain", kDomain}, {"workflowId", "w"}, {"signalName", "s"}})
                .fault(),
            Fault::kUnknownResource);
  EXPECT_EQ(Call("TerminateWorkflowExecution",
                 {{"domain", kDomain}, {"workflowId", "w"}, {"runId", run_id}})
                .fault(),
            Fault::kUnknownResource);
  EXPECT_EQ(
      Call("RequestCancelWorkflowExecution", {{"domain", kDomain}, {"workflowId", "w"}}).fault(),
      Fault::kUnknownResource);
  clock_->AdvanceSeconds(80000);  // within the domain's 1-day retention
  EXPECT_EQ(History("w", run_id).size(), size);
  const Json described = Describe("w", run_id);
  EXPECT_EQ(described["executionInfo"]["closeStatus"], "TERMINATED");
  EXPECT_EQ(described["openCounts"]["openActivityTasks"], 0);
}

TEST_F(Executions, TerminateClosesRunWithStartedDecisionTask) {
  RegisterTypes();
  const std::string run_id = Start("w");
  const Json task = PollDecision();
  Ok("TerminateWorkflowExecution", {{"domain", kDomain}, {"workflowId", "w"}, {"runId", run_id}});
  EXPECT_EQ(Decide(task, {CompleteWorkflow()}).fault(), Fault::kUnknownResource);
  EXPECT_EQ(Describe("w", run_id)["executionInfo"]["closeStatus"], "TERMINATED");
}

TEST_F(Executions, SignalSchedulesDecisionTask) {
  RegisterTypes();
  const std::string run_id = Start("w");
  ASSERT_TRUE(Decide(PollDecision(), Json::array()).ok());
  Ok("SignalWorkflowExecution", {{"domain", kDomain},
                                 {"workflowId", "w"},
                                 {"runId", run_id},
                                 {"signalName", "go"},
                                 {"input", "1"}});
  EXPECT_EQ(EventTypes("w", run_id),
            (std::vector<std::string>{"WorkflowExecutionStarted", "DecisionTaskScheduled",
                                      "DecisionTaskStarted", "DecisionTaskCompleted",
                                      "WorkflowExecutionSignaled", "DecisionTaskScheduled"}));
  EXPECT_EQ(Call("SignalWorkflowExecution",
                 {{"domain", kDomain}, {"workflowId", "nope"}, {"signalName", "go"}})
                .fault(),
            Fault::kUnknownResource);
  EXPECT_EQ(
      Call("SignalWorkflowExecution", {{"domain", "zz"}, {"workflowId", "w"}, {"signalName", "go"}})
          .fault(),
      Fault::kUnknownResource);
}

TEST_F(Executions, StaleTokens) {
  RegisterTypes();
  Start("w");
  const Json task = PollDecision();
  ASSERT_TRUE(Decide(task, {ScheduleActivity("a")}).ok());
  EXPECT_EQ(Decide(task, Json::array()).fault(), Fault::kUnknownResource);
  EXPECT_EQ(Call("RespondDecisionTaskCompleted", {{"taskToken", "garbage"}}).fault(),
            Fault::kUnknownResource);
  const Json activity = PollActivity();
  Ok("RespondActivityTaskCompleted", {{"taskToken", activity["taskToken"]}});
  EXPECT_EQ(Call("RespondActivityTaskCompleted", {{"taskToken", activity["taskToken"]}}).fault(),
            Fault::kUnknownResource);
  EXPECT_EQ(Call("RespondActivityTaskFailed", {{"taskToken", activity["taskToken"]}}).fault(),
            Fault::kUnknownResource);
  // A token of the other kind is unknown too.
  EXPECT_EQ(
      Call("RespondActivityTaskCompleted", {{"taskToken", PollDecision()["taskToken"]}}).fault(),
      Fault::kUnknownResource);
  // A tampered secret.
  std::string token = activity["taskToken"];
  token.back() = token.back() == 'A' ? 'B' : 'A';
  EXPECT_EQ(Call("RecordActivityTaskHeartbeat", {{"taskToken", token}}).fault(),
            Fault::kUnknownResource);
}

TEST_F(Executions, HistoryPagingReverseAndCorruptToken) {
  RegisterTypes();
  const std::string run_id = Start("w");
  ASSERT_TRUE(Decide(PollDecision(), {ScheduleActivity("a")}).ok());  // 5 events
  const Json execution{{"workflowId", "w"}, {"runId", run_id}};
  std::vector<int> ids;
  Json request{{"domain", kDomain},
               {"execution", execution},
               {"maximumPageSize", 2},
               {"reverseOrder", true}};
  for (int page = 0; page < 5; ++page) {
    const Json r = Ok("GetWorkflowExecutionHistory", request);
    for (const Json& e : r["events"]) ids.push_back(e["eventId"]);
    if (!r.contains("nextPageToken")) break;
    request["nextPageToken"] = r["nextPageToken"];
  }
  EXPECT_EQ(ids, (std::vector<int>{5, 4, 3, 2, 1}));
  ids.clear();
  request = {{"domain", kDomain}, {"execution", execution}, {"maximumPageSize", 3}};
  const Json first = Ok("GetWorkflowExecutionHistory", request);
  request["nextPageToken"] = first["nextPageToken"];
  const Json second = Ok("GetWorkflowExecutionHistory", request);
  EXPECT_EQ(first["events"].size(), 3u);
  EXPECT_EQ(second["events"].size(), 2u);
  EXPECT_EQ(second["events"][0]["eventId"], 4);
  EXPECT_FALSE(second.contains("nextPageToken"));
  request["nextPageToken"] = "not-a-token";
  EXPECT_EQ(Call("GetWorkflowExecutionHistory", request).fault(), Fault::kValidation);
  std::string tampered = first["nextPageToken"];
  tampered.insert(tampered.size() / 2, "x");
  request["nextPageToken"] = tampered;
  EXPECT_EQ(Call("GetWorkflowExecutionHistory", request).fault(), Fault::kValidation);
  EXPECT_EQ(Call("GetWorkflowExecutionHistory",
                 {{"domain", kDomain}, {"execution", {{"workflowId", "w"}, {"runId", "zz"}}}})
                .fault(),
            Fault::kUnknownResource);
}

TEST_F(Executions, ListAndCountWithFilters) {
  RegisterTypes();
  Ok("RegisterWorkflowType", {{"domain", kDomain},
                              {"name", "other"},
                              {"version", "1"},
                              {"defaultTaskList", {{"name", "o"}}},
                              {"defaultExecutionStartToCloseTimeout", "100"},
                              {"defaultTaskStartToCloseTimeout", "NONE"},
                              {"defaultChildPolicy", "ABANDON"}});
  const std::string a = Start("a", {{"tagList", {"blue"}}});
  clock_->AdvanceSeconds(10);
  const std::string b = Start("b");
  clock_->AdvanceSeconds(10);
  Ok("StartWorkflowExecution", {{"domain", kDomain},
                                {"workflowId", "c"},
                                {"workflowType", {{"name", "other"}, {"version", "1"}}}});
  clock_->AdvanceSeconds(10);
  Ok("TerminateWorkflowExecution", {{"domain", kDomain}, {"workflowId", "b"}});
  const Json all_time{{"oldestDate", 0}};
  auto ids = [](const Json& r) {
    std::vector<std::string> out;
    for (const Json& info : r["executionInfos"]) out.push_back(info["execution"]["workflowId"]);
    return out;
  };
  EXPECT_THAT(
      ids(Ok("ListOpenWorkflowExecutions", {{"domain", kDomain}, {"startTimeFilter", all_time}})),
      ElementsAre("c", "a"));
  EXPECT_THAT(ids(Ok("ListOpenWorkflowExecutions",
                     {{"domain", kDomain}, {"startTimeFilter", all_time}, {"reverseOrder", true}})),
              ElementsAre("a", "c"));
  EXPECT_THAT(ids(Ok("ListOpenWorkflowExecutions",
                     {{"domain", kDomain}, {"startTimeFilter", {{"oldestDate", T0() + 5}}}})),
              ElementsAre("c"));
  EXPECT_THAT(ids(Ok("ListOpenWorkflowExecutions",
                     {{"domain", kDomain},
                      {"startTimeFilter", {{"oldestDate", 0}, {"latestDate", T0() + 5}}}})),
              ElementsAre("a"));
  EXPECT_THAT(ids(Ok("ListOpenWorkflowExecutions", {{"domain", kDomain},
                                                    {"startTimeFilter", all_time},
                                                    {"executionFilter", {{"workflowId", "a"}}}})),
              ElementsAre("a"));
  EXPECT_THAT(ids(Ok("ListOpenWorkflowExecutions", {{"domain", kDomain},
                                                    {"startTimeFilter", all_time},
                                                    {"typeFilter", {{"name", "other"}}}})),
              ElementsAre("c"));
  EXPECT_THAT(ids(Ok("ListOpenWorkflowExecutions", {{"domain", kDomain},
                                                    {"startTimeFilter", all_time},
                                                    {"tagFilter", {{"tag", "blue"}}}})),
              ElementsAre("a"));
  const Json paged =
      Ok("ListOpenWorkflowExecutions",
         {{"domain", kDomain}, {"startTimeFilter", all_time}, {"maximumPageSize", 1}});
  EXPECT_THAT(ids(paged), ElementsAre("c"));
  EXPECT_THAT(ids(Ok("ListOpenWorkflowExecutions", {{"domain", kDomain},
                                                    {"startTimeFilter", all_time},
                                                    {"maximumPageSize", 1},
                                                    {"nextPageToken", paged["nextPageToken"]}})),
              ElementsAre("a"));
  const Json closed =
      Ok("ListClosedWorkflowExecutions", {{"domain", kDomain}, {"closeTimeFilter", all_time}});
  EXPECT_THAT(ids(closed), ElementsAre("b"));
  EXPECT_EQ(closed["executionInfos"][0]["closeStatus"], "TERMINATED");
  EXPECT_EQ(closed["executionInfos"][0]["closeTimestamp"], T0() + 30);
  EXPECT_THAT(
      ids(Ok("ListClosedWorkflowExecutions", {{"domain", kDomain},
                                              {"startTimeFilter", all_time},
                                              {"closeStatusFilter", {{"status", "COMPLETED"}}}})),
      ElementsAre());
  EXPECT_EQ(Call("ListClosedWorkflowExecutions", {{"domain", kDomain}}).fault(),
            Fault::kValidation);
  EXPECT_EQ(
      Call("ListClosedWorkflowExecutions",
           {{"domain", kDomain}, {"startTimeFilter", all_time}, {"closeTimeFilter", all_time}})
          .fault(),
      Fault::kValidation);
  EXPECT_EQ(Call("ListOpenWorkflowExecutions", {{"domain", kDomain},
                                                {"startTimeFilter", all_time},
                                                {"typeFilter", {{"name", "wf"}}},
                                                {"tagFilter", {{"tag", "blue"}}}})
                .fault(),
            Fault::kValidation);
  EXPECT_EQ(Ok("CountOpenWorkflowExecutions", {{"domain", kDomain}, {"startTimeFilter", all_time}}),
            Json({{"count", 2}, {"truncated", false}}));
  EXPECT_EQ(Ok("CountClosedWorkflowExecutions",
               {{"domain", kDomain}, {"startTimeFilter", all_time}})["count"],
            1);
  EXPECT_EQ(Call("CountOpenWorkflowExecutions", {{"domain", "zz"}, {"startTimeFilter", all_time}})
                .fault(),
            Fault::kUnknownResource);
  (void)a;
  (void)b;
}

TEST_F(RoundTrip, EveryOperationOfTheModelIsServed) {
  // An empty request: each operation answers with its own validation or
  // resource fault, never "no handler".
  for (const std::string& op : protocol::Model::Get().OperationNames()) {
    if (op == "PollForDecisionTask" || op == "PollForActivityTask") continue;
    const Result<Json> r = Call(op, Json::object());
    EXPECT_NE(r.fault(), Fault::kInternalFailure) << op << ": " << r.status().ToString();
    EXPECT_NE(r.fault(), Fault::kUnknownOperation) << op;
  }
}

}  // namespace
}  // namespace garcon::engine::testing
