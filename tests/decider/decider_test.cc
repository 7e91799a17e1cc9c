// The decider: HistoryState rebuilt from SWF-shaped events, Decisions() for the
// derived flow decider and for custom deciders, the decision-task loop
// (paging, per-run cache) and registration. Ported from the original
// Garcon's test_decider.py and test_activity.py, plus the weaknesses the C++
// version fixes (timeouts, scheduling failures, empty generators, sizes).
#include "garcon/decider.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "garcon/activity_execution.h"
#include "garcon/flow.h"
#include "garcon/runner.h"
#include "garcon/service.h"

namespace garcon {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

const ExecutionRef kRun{"dev", "wf-1", "run-1"};

// An SWF execution history built event by event.
class History {
 public:
  std::int64_t Add(const std::string& type, Json attributes = Json::object()) {
    const auto id = static_cast<std::int64_t>(events_.size()) + 1;
    std::string key = type;
    key[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(key[0])));
    key += "EventAttributes";
    events_.push_back({{"eventId", id},
                       {"eventTimestamp", 1700000000.0 + skipped_ + static_cast<double>(id)},
                       {"eventType", type},
                       {key, std::move(attributes)}});
    return id;
  }

  std::int64_t Started(const Json& input = nullptr, const std::string& task_list = "flow",
                       const std::string& version = "1.0") {
    Json attributes = {{"workflowType", {{"name", "flow"}, {"version", version}}},
                       {"taskList", {{"name", task_list}}},
                       {"childPolicy", "TERMINATE"},
                       {"executionStartToCloseTimeout", "3600"},
                       {"taskStartToCloseTimeout", "60"}};
    if (input.is_string()) attributes["input"] = input;
    if (input.is_object()) attributes["input"] = input.dump();
    return Add("WorkflowExecutionStarted", std::move(attributes));
  }

  // DecisionTaskScheduled and DecisionTaskStarted; returns the started id.
  std::int64_t DecisionTask() {
    scheduled_decision_ = Add("DecisionTaskScheduled",
                              {{"taskList", {{"name", "flow"}}}, {"startToCloseTimeout", "60"}});
    started_decision_ = Add("DecisionTaskStarted",
                            {{"scheduledEventId", scheduled_decision_}, {"identity", "decider"}});
    return started_decision_;
  }

  std::int64_t DecisionCompleted() {
    return Add("DecisionTaskCompleted",
               {{"scheduledEventId", scheduled_decision_}, {"startedEventId", started_decision_}});
  }

  std::int64_t Scheduled(const std::string& activity_id, const std::string& type_name) {
    return Add("ActivityTaskScheduled",
               {{"activityType", {{"name", type_name}, {"version", "1.0"}}},
                {"activityId", activity_id},
                {"taskList", {{"name", type_name}}},
                {"decisionTaskCompletedEventId", events_.size()}});
  }

  std::int64_t ActivityStarted(std::int64_t scheduled) {
    return Add("ActivityTaskStarted", {{"scheduledEventId", scheduled}, {"identity", "worker"}});
  }

  std::int64_t Completed(std::int64_t scheduled, const Json& result) {
    Json attributes = {{"scheduledEventId", scheduled}, {"startedEventId", scheduled + 1}};
    if (!result.is_null()) attributes["result"] = result.is_string() ? result : Json(result.dump());
    return Add("ActivityTaskCompleted", std::move(attributes));
  }

  std::int64_t Failed(std::int64_t scheduled, const std::string& reason,
                      const std::string& details = "") {
    return Add("ActivityTaskFailed", {{"scheduledEventId", scheduled},
                                      {"startedEventId", scheduled + 1},
                                      {"reason", reason},
                                      {"details", details}});
  }

  std::int64_t TimedOut(std::int64_t scheduled, const std::string& timeout_type) {
    return Add("ActivityTaskTimedOut",
               {{"scheduledEventId", scheduled}, {"timeoutType", timeout_type}});
  }

  std::int64_t ScheduleFailed(const std::string& activity_id, const std::string& type_name,
                              const std::string& cause) {
    return Add("ScheduleActivityTaskFailed",
               {{"activityType", {{"name", type_name}, {"version", "1.0"}}},
                {"activityId", activity_id},
                {"cause", cause},
                {"decisionTaskCompletedEventId", events_.size()}});
  }

  const std::vector<Json>& events() const { return events_; }
  std::size_t size() const { return events_.size(); }

  // The state after the first `n` events (all when n is 0).
  HistoryState State(std::size_t n = 0) const {
    if (n == 0) n = events_.size();
    HistoryState state;
    for (std::size_t i = 0; i < n; ++i) state.Apply(events_[i]);
    return state;
  }

  // Later events happen `seconds` later.
  void Skip(double seconds) { skipped_ += seconds; }

  std::int64_t TimerStarted(const std::string& timer_id, const std::string& control,
                            const std::string& seconds) {
    return Add("TimerStarted", {{"timerId", timer_id},
                                {"control", control},
                                {"startToFireTimeout", seconds},
                                {"decisionTaskCompletedEventId", events_.size()}});
  }

  std::int64_t TimerFired(const std::string& timer_id, std::int64_t started) {
    return Add("TimerFired", {{"timerId", timer_id}, {"startedEventId", started}});
  }

 private:
  std::vector<Json> events_;
  double skipped_ = 0;
  std::int64_t scheduled_decision_ = 0;
  std::int64_t started_decision_ = 0;
};

// The decisions, without the flow's graph marker of a run's first decision
// (tested on its own in GraphTest).
std::vector<Json> Decisions(const Flow& flow, const HistoryState& state, const ExecutionRef& run) {
  std::vector<Json> out;
  for (Json& d : ::garcon::Decide(flow, state, run)) {
    if (d.value("decisionType", "") == "RecordMarker" &&
        d["recordMarkerDecisionAttributes"].value("markerName", "") == kGraphMarker) {
      continue;
    }
    out.push_back(std::move(d));
  }
  return out;
}

std::vector<std::string> Types(const std::vector<Json>& decisions) {
  std::vector<std::string> out;
  for (const auto& d : decisions) out.push_back(d.at("decisionType").get<std::string>());
  return out;
}

// The activityIds of the ScheduleActivityTask decisions.
std::vector<std::string> ScheduledIds(const std::vector<Json>& decisions) {
  std::vector<std::string> out;
  for (const auto& d : decisions) {
    if (d.at("decisionType") == "ScheduleActivityTask") {
      out.push_back(d.at("scheduleActivityTaskDecisionAttributes").at("activityId"));
    }
  }
  return out;
}

const Json& ScheduleAttributes(const std::vector<Json>& decisions, const std::string& id) {
  for (const auto& d : decisions) {
    if (d.at("decisionType") == "ScheduleActivityTask" &&
        d.at("scheduleActivityTaskDecisionAttributes").at("activityId") == id) {
      return d.at("scheduleActivityTaskDecisionAttributes");
    }
  }
  static const Json kNone;
  ADD_FAILURE() << "no ScheduleActivityTask for " << id;
  return kNone;
}

// The single FailWorkflowExecution decision's attributes.
Json FailAttributes(const std::vector<Json>& decisions) {
  EXPECT_THAT(Types(decisions), ElementsAre("FailWorkflowExecution"));
  if (decisions.size() != 1 || decisions[0].at("decisionType") != "FailWorkflowExecution") {
    return Json::object();
  }
  return decisions[0].at("failWorkflowExecutionDecisionAttributes");
}

// The single CompleteWorkflowExecution decision's result, parsed.
Json CompletedResult(const std::vector<Json>& decisions) {
  EXPECT_THAT(Types(decisions), ElementsAre("CompleteWorkflowExecution"));
  if (decisions.size() != 1 || decisions[0].at("decisionType") != "CompleteWorkflowExecution") {
    return nullptr;
  }
  return Json::parse(decisions[0]
                         .at("completeWorkflowExecutionDecisionAttributes")
                         .at("result")
                         .get<std::string>());
}

Task WholeContext() {
  return Task([](ActivityExecution&, const Context&) {});
}

// ---------------------------------------------------------------------------
// The original's 4-activity flow against growing prefixes of one history.

class FourActivityFlowTest : public ::testing::Test {
 protected:
  FourActivityFlowTest() {
    auto& a1 = flow_.Activity("activity_1").Run(Sync(WholeContext()));
    auto& a2 =
        flow_.Activity("activity_2").Requires({&a1}).Run(Async(WholeContext(), WholeContext()));
    auto& a3 = flow_.Activity("activity_3").Requires({&a1}).Run(Sync(WholeContext()));
    flow_.Activity("activity_4").Requires({&a3, &a2}).Run(Sync(WholeContext()));

    history_.Started();                                                          // 1
    history_.DecisionTask();                                                     // 2, 3
    history_.DecisionCompleted();                                                // 4
    const auto s1 = history_.Scheduled("flow_activity_1-1", "flow_activity_1");  // 5
    history_.ActivityStarted(s1);                                                // 6
    history_.Completed(s1, Json{{"activity_1", "done"}});                        // 7
    history_.DecisionTask();                                                     // 8, 9
    history_.DecisionCompleted();                                                // 10
    const auto s2 = history_.Scheduled("flow_activity_2-1", "flow_activity_2");  // 11
    const auto s3 = history_.Scheduled("flow_activity_3-1", "flow_activity_3");  // 12
    history_.ActivityStarted(s2);                                                // 13
    history_.ActivityStarted(s3);                                                // 14
    history_.Completed(s2, Json{{"activity_2", "done"}, {"shared", "from 2"}});  // 15
    history_.DecisionTask();                                                     // 16, 17
    history_.Completed(s3, Json{{"activity_3", "done"}, {"shared", "from 3"}});  // 18
    history_.DecisionCompleted();                                                // 19
    history_.DecisionTask();                                                     // 20, 21
    history_.DecisionCompleted();                                                // 22
    const auto s4 = history_.Scheduled("flow_activity_4-1", "flow_activity_4");  // 23
    history_.ActivityStarted(s4);                                                // 24
    history_.Completed(s4, Json{{"activity_4", "done"}});                        // 25
    history_.DecisionTask();                                                     // 26, 27
  }

  std::vector<Json> DecideAfter(std::size_t n) { return Decisions(flow_, history_.State(n), kRun); }

  Flow flow_{"dev", "flow"};
  History history_;
};

TEST_F(FourActivityFlowTest, HistoryHas27Events) { EXPECT_EQ(history_.size(), 27u); }

TEST_F(FourActivityFlowTest, FirstDecisionSchedulesActivity1) {
  const auto decisions = DecideAfter(3);
  ASSERT_THAT(ScheduledIds(decisions), ElementsAre("flow_activity_1-1"));
  EXPECT_EQ(decisions[0],
            (Json{{"decisionType", "ScheduleActivityTask"},
                  {"scheduleActivityTaskDecisionAttributes",
                   {{"activityType", {{"name", "flow_activity_1"}, {"version", "1.0"}}},
                    {"activityId", "flow_activity_1-1"},
                    {"taskList", {{"name", "flow_activity_1@1.0"}}},
                    {"input", "{}"},
                    {"startToCloseTimeout", "600"},
                    {"heartbeatTimeout", "600"},
                    {"scheduleToStartTimeout", "600"},
                    {"scheduleToCloseTimeout", "1200"}}}}));
}

TEST_F(FourActivityFlowTest, AfterActivity1Activities2And3AreScheduledTogether) {
  const auto decisions = DecideAfter(9);
  ASSERT_THAT(ScheduledIds(decisions), ElementsAre("flow_activity_2-1", "flow_activity_3-1"));
  const Json& a2 = ScheduleAttributes(decisions, "flow_activity_2-1");
  EXPECT_EQ(Json::parse(a2.at("input").get<std::string>()), (Json{{"activity_1", "done"}}));
  EXPECT_EQ(a2.at("startToCloseTimeout"), "1200") << "two undecorated tasks";
  EXPECT_EQ(a2.at("heartbeatTimeout"), "600");
  EXPECT_EQ(a2.at("scheduleToStartTimeout"), "600");
  EXPECT_EQ(a2.at("scheduleToCloseTimeout"), "1800");
  EXPECT_EQ(ScheduleAttributes(decisions, "flow_activity_3-1").at("startToCloseTimeout"), "600");
}

TEST_F(FourActivityFlowTest, NothingWhileActivity3Runs) { EXPECT_THAT(DecideAfter(17), IsEmpty()); }

TEST_F(FourActivityFlowTest, AfterBoth2And3Activity4) {
  const auto decisions = DecideAfter(21);
  ASSERT_THAT(ScheduledIds(decisions), ElementsAre("flow_activity_4-1"));
  // Results merged in event order: activity_3 completed last.
  EXPECT_EQ(Json::parse(
                ScheduleAttributes(decisions, "flow_activity_4-1").at("input").get<std::string>()),
            (Json{{"activity_1", "done"},
                  {"activity_2", "done"},
                  {"activity_3", "done"},
                  {"shared", "from 3"}}));
}

TEST_F(FourActivityFlowTest, AfterActivity4TheWorkflowCompletesWithTheContext) {
  EXPECT_EQ(CompletedResult(DecideAfter(27)), (Json{{"activity_1", "done"},
                                                    {"activity_2", "done"},
                                                    {"activity_3", "done"},
                                                    {"activity_4", "done"},
                                                    {"shared", "from 3"}}));
}

TEST_F(FourActivityFlowTest, EveryPrefix) {
  // What Decide answers after each prefix: it never schedules twice.
  for (std::size_t n = 1; n <= history_.size(); ++n) {
    SCOPED_TRACE("after " + std::to_string(n) + " events");
    const auto decisions = DecideAfter(n);
    if (n < 5) {
      EXPECT_THAT(ScheduledIds(decisions), ElementsAre("flow_activity_1-1"));
    } else if (n < 7) {
      EXPECT_THAT(decisions, IsEmpty());
    } else if (n < 11) {
      EXPECT_THAT(ScheduledIds(decisions), ElementsAre("flow_activity_2-1", "flow_activity_3-1"));
    } else if (n == 11) {
      EXPECT_THAT(ScheduledIds(decisions), ElementsAre("flow_activity_3-1"));
    } else if (n < 18) {
      EXPECT_THAT(decisions, IsEmpty());
    } else if (n < 23) {
      EXPECT_THAT(ScheduledIds(decisions), ElementsAre("flow_activity_4-1"));
    } else if (n < 25) {
      EXPECT_THAT(decisions, IsEmpty());
    } else {
      EXPECT_THAT(Types(decisions), ElementsAre("CompleteWorkflowExecution"));
    }
  }
}

TEST_F(FourActivityFlowTest, IncrementalApplicationGivesTheSameDecisions) {
  for (std::size_t split = 1; split < history_.size(); ++split) {
    SCOPED_TRACE("split after " + std::to_string(split));
    HistoryState first_half = history_.State(split);
    HistoryState state = first_half;  // copied forward
    for (std::size_t i = split; i < history_.size(); ++i) state.Apply(history_.events()[i]);
    EXPECT_EQ(state.last_event_id(), 27);
    EXPECT_EQ(Decisions(flow_, state, kRun), DecideAfter(27));
    EXPECT_EQ(state.context(), history_.State().context());
    // The copy did not change the half it came from.
    EXPECT_EQ(first_half.last_event_id(), static_cast<std::int64_t>(split));
  }
}

TEST_F(FourActivityFlowTest, StateRecords) {
  const HistoryState state = history_.State(17);
  EXPECT_EQ(state.last_event_id(), 17);
  EXPECT_EQ(state.input(), Json::object());
  EXPECT_EQ(state.context(),
            (Json{{"activity_1", "done"}, {"activity_2", "done"}, {"shared", "from 2"}}));
  ASSERT_NE(state.Find("flow_activity_3-1"), nullptr);
  EXPECT_EQ(state.Find("flow_activity_3-1")->status, ActivityRecord::Status::kScheduled);
  EXPECT_EQ(state.Find("flow_activity_3-1")->scheduled_event_id, 12);
  ASSERT_NE(state.Find("flow_activity_2-1"), nullptr);
  EXPECT_EQ(state.Find("flow_activity_2-1")->status, ActivityRecord::Status::kCompleted);
  EXPECT_EQ(state.Find("flow_activity_2-1")->result,
            (Json{{"activity_2", "done"}, {"shared", "from 2"}}));
  EXPECT_EQ(state.Find("flow_activity_4-1"), nullptr);
  EXPECT_FALSE(state.closed());
  EXPECT_EQ(state.fatal_error(), "");
}

TEST_F(FourActivityFlowTest, AClosedRunGetsNoDecision) {
  History closed = history_;
  closed.DecisionCompleted();
  closed.Add("WorkflowExecutionCompleted", {{"result", "{}"}});
  const HistoryState state = closed.State();
  EXPECT_TRUE(state.closed());
  EXPECT_THAT(Decisions(flow_, state, kRun), IsEmpty());
}

// ---------------------------------------------------------------------------
// Failures, timeouts and retries.

class RetryTest : public ::testing::Test {
 protected:
  // One activity, retried `retries` times; returns its scheduled event id.
  std::int64_t Start(int retries) {
    flow_.Activity("a").Retry(retries).Run(Sync(WholeContext()));
    history_.Started();
    history_.DecisionTask();
    history_.DecisionCompleted();
    return Attempt();
  }
  std::int64_t Attempt() {
    const auto s = history_.Scheduled("flow_a-1", "flow_a");
    history_.ActivityStarted(s);
    return s;
  }
  std::vector<Json> DecideNow() {
    history_.DecisionTask();
    auto decisions = Decisions(flow_, history_.State(), kRun);
    history_.DecisionCompleted();
    return decisions;
  }

  Flow flow_{"dev", "flow"};
  History history_;
};

TEST_F(RetryTest, TimedOutIsAFailedAttemptRescheduledWithinRetries) {
  history_.TimedOut(Start(1), "START_TO_CLOSE");
  EXPECT_THAT(ScheduledIds(DecideNow()), ElementsAre("flow_a-1"));
  EXPECT_EQ(history_.State().Find("flow_a-1")->failures, 1);
  EXPECT_EQ(history_.State().Find("flow_a-1")->status, ActivityRecord::Status::kFailed);

  history_.TimedOut(Attempt(), "HEARTBEAT");
  const Json failure = FailAttributes(DecideNow());
  // Readable: the activity, the attempt (of how many), then its own reason.
  EXPECT_EQ(failure.value("reason", ""), "a attempt 2 of 2: timed out: HEARTBEAT");
  const Json details = Json::parse(failure.value("details", "{}"));
  EXPECT_EQ(details.value("activityId", ""), "flow_a-1");
  EXPECT_EQ(details.value("attempts", 0), 2);
}

TEST_F(RetryTest, TimedOutWithoutRetriesFailsTheWorkflowAtOnce) {
  const auto s = Start(0);
  history_.TimedOut(s, "SCHEDULE_TO_CLOSE");
  EXPECT_EQ(FailAttributes(DecideNow()).value("reason", ""),
            "a attempt 1 of 1: timed out: SCHEDULE_TO_CLOSE");
}

TEST_F(RetryTest, CanceledCountsAsAFailedAttempt) {
  const auto s = Start(0);
  history_.Add("ActivityTaskCanceled", {{"scheduledEventId", s}, {"details", "stop"}});
  EXPECT_EQ(FailAttributes(DecideNow()).value("reason", ""), "a attempt 1 of 1: canceled");
}

TEST_F(RetryTest, FailedIsRescheduledUntilTheLimitThenFailsWithItsOwnReason) {
  history_.Failed(Start(2), "first failure", "trace 1");
  EXPECT_THAT(ScheduledIds(DecideNow()), ElementsAre("flow_a-1"));
  history_.Failed(Attempt(), "second failure", "trace 2");
  EXPECT_THAT(ScheduledIds(DecideNow()), ElementsAre("flow_a-1"));
  const std::string long_reason = "ValueError: " + std::string(400, 'x');
  history_.Failed(Attempt(), long_reason, "trace 3");
  const Json failure = FailAttributes(DecideNow());
  // Cut to SWF's 256 characters; the details keep the whole reason.
  EXPECT_EQ(failure.value("reason", ""), ("a attempt 3 of 3: " + long_reason).substr(0, 256));
  const Json details = Json::parse(failure.value("details", "{}"));
  EXPECT_EQ(details, (Json{{"activity", "a"},
                           {"activityId", "flow_a-1"},
                           {"values", Json::object()},
                           {"attempts", 3},
                           {"reason", long_reason},
                           {"details", "trace 3"}}));
}

TEST_F(RetryTest, AFailureAfterASuccessfulRetryIsForgotten) {
  history_.Failed(Start(1), "flaky");
  EXPECT_THAT(ScheduledIds(DecideNow()), ElementsAre("flow_a-1"));
  history_.Completed(Attempt(), Json{{"ok", true}});
  EXPECT_EQ(CompletedResult(DecideNow()), (Json{{"ok", true}}));
}

TEST_F(RetryTest, ScheduleActivityTaskFailedFailsTheWorkflowWithTheCause) {
  flow_.Activity("a").Run(Sync(WholeContext()));
  history_.Started();
  history_.DecisionTask();
  history_.DecisionCompleted();
  history_.ScheduleFailed("flow_a-1", "flow_a", "ACTIVITY_TYPE_DOES_NOT_EXIST");
  const auto decisions = DecideNow();
  const Json failure = FailAttributes(decisions);
  EXPECT_THAT(failure.value("reason", ""), HasSubstr("ACTIVITY_TYPE_DOES_NOT_EXIST"));
  EXPECT_THAT(failure.value("reason", ""), HasSubstr("flow_a-1"));
  EXPECT_THAT(ScheduledIds(decisions), IsEmpty()) << "never rescheduled forever";
}

// ---------------------------------------------------------------------------
// Retry policies: backoff through SWF timers in the history, errors that are
// not retried, a time budget.

const Json& OnlyDecision(const std::vector<Json>& decisions, const std::string& type) {
  static const Json kNone = Json::object();
  for (const auto& d : decisions) {
    if (d.at("decisionType") == type) return d;
  }
  ADD_FAILURE() << "no " << type << " decision";
  return kNone;
}

RetryPolicy Backoff(int retries, int initial, double multiplier = 2.0, int maximum = 0) {
  RetryPolicy p;
  p.retries = retries;
  p.initial_interval = std::chrono::seconds(initial);
  p.multiplier = multiplier;
  p.maximum_interval = std::chrono::seconds(maximum);
  return p;
}

std::string WaitOf(const std::vector<Json>& decisions) {
  return OnlyDecision(decisions, "StartTimer")
      .value("startTimerDecisionAttributes", Json::object())
      .value("startToFireTimeout", "");
}

TEST(RetryPolicyTest, AFailedAttemptWaitsForATimerThenIsRescheduled) {
  Flow flow("dev", "flow");
  flow.Activity("a").Run(Sync(WholeContext())).Retry(Backoff(3, 10, 3.0, 60));
  History history;
  history.Started();
  history.DecisionTask();
  history.DecisionCompleted();
  auto s = history.Scheduled("flow_a-1", "flow_a");
  history.ActivityStarted(s);
  history.Failed(s, "dependency down");
  history.DecisionTask();
  auto decisions = Decisions(flow, history.State(), kRun);
  ASSERT_THAT(Types(decisions), ElementsAre("StartTimer"));
  const Json& timer = decisions[0].at("startTimerDecisionAttributes");
  EXPECT_EQ(timer.at("timerId"), "retry-" + std::to_string(s));
  EXPECT_EQ(timer.at("control"), "flow_a-1");
  EXPECT_EQ(timer.at("startToFireTimeout"), "10");

  // While the timer runs, nothing is decided for the instance.
  history.DecisionCompleted();
  auto t = history.TimerStarted("retry-" + std::to_string(s), "flow_a-1", "10");
  history.DecisionTask();
  EXPECT_THAT(Decisions(flow, history.State(), kRun), IsEmpty());

  history.DecisionCompleted();
  history.TimerFired("retry-" + std::to_string(s), t);
  history.DecisionTask();
  EXPECT_THAT(ScheduledIds(Decisions(flow, history.State(), kRun)), ElementsAre("flow_a-1"));

  // The next waits grow by the multiplier, up to the maximum.
  history.DecisionCompleted();
  s = history.Scheduled("flow_a-1", "flow_a");
  history.Failed(s, "dependency down");
  history.DecisionTask();
  EXPECT_EQ(WaitOf(Decisions(flow, history.State(), kRun)), "30");
  history.DecisionCompleted();
  t = history.TimerStarted("retry-" + std::to_string(s), "flow_a-1", "30");
  history.TimerFired("retry-" + std::to_string(s), t);
  history.DecisionTask();
  history.DecisionCompleted();
  s = history.Scheduled("flow_a-1", "flow_a");
  history.Failed(s, "dependency down");
  history.DecisionTask();
  EXPECT_EQ(WaitOf(Decisions(flow, history.State(), kRun)), "60");  // 90, capped

  // Retries spent: the workflow fails with the activity's own reason.
  history.DecisionCompleted();
  t = history.TimerStarted("retry-" + std::to_string(s), "flow_a-1", "60");
  history.TimerFired("retry-" + std::to_string(s), t);
  history.DecisionTask();
  history.DecisionCompleted();
  s = history.Scheduled("flow_a-1", "flow_a");
  history.Failed(s, "dependency down");
  history.DecisionTask();
  decisions = Decisions(flow, history.State(), kRun);
  ASSERT_THAT(Types(decisions), ElementsAre("FailWorkflowExecution"));
  EXPECT_EQ(decisions[0]["failWorkflowExecutionDecisionAttributes"]["reason"],
            "a attempt 4 of 4: dependency down");
}

TEST(RetryPolicyTest, JitterShortensTheWaitTheSameWayOnEveryReplay) {
  Flow flow("dev", "flow");
  RetryPolicy policy = Backoff(5, 100);
  policy.jitter = 0.5;
  flow.Activity("a").Run(Sync(WholeContext())).Retry(policy);
  History history;
  history.Started();
  history.DecisionTask();
  history.DecisionCompleted();
  const auto s = history.Scheduled("flow_a-1", "flow_a");
  history.Failed(s, "x");
  history.DecisionTask();
  std::set<std::string> waits;
  for (const char* run : {"run-1", "run-2", "run-3", "run-4", "run-5", "run-6"}) {
    const ExecutionRef ref{"dev", "wf", run};
    const std::string wait = WaitOf(Decisions(flow, history.State(), ref));
    EXPECT_EQ(WaitOf(Decisions(flow, history.State(), ref)), wait);  // deterministic
    EXPECT_GE(std::stoi(wait), 50);
    EXPECT_LE(std::stoi(wait), 100);
    waits.insert(wait);
  }
  EXPECT_GT(waits.size(), 1u) << "jitter spreads the runs";
}

TEST(RetryPolicyTest, ANonRetryableFailureFailsTheWorkflowAtOnce) {
  Flow flow("dev", "flow");
  flow.Activity("a").Run(Sync(WholeContext())).Retry(5);
  History history;
  history.Started();
  history.DecisionTask();
  history.DecisionCompleted();
  const auto s = history.Scheduled("flow_a-1", "flow_a");
  history.Failed(s, std::string(kNonRetryablePrefix) + "card declined");
  history.DecisionTask();
  const auto decisions = Decisions(flow, history.State(), kRun);
  ASSERT_THAT(Types(decisions), ElementsAre("FailWorkflowExecution"));
  EXPECT_EQ(decisions[0]["failWorkflowExecutionDecisionAttributes"]["reason"],
            "a attempt 1 of 6: non-retryable: card declined");
}

TEST(RetryPolicyTest, APredicateDecidesWhichFailuresAreRetried) {
  Flow flow("dev", "flow");
  RetryPolicy policy;
  policy.retries = 5;
  policy.retryable = [](const std::string& reason, const std::string&) {
    return reason.starts_with("timed out") || reason == "503";
  };
  flow.Activity("a").Run(Sync(WholeContext())).Retry(policy);
  History history;
  history.Started();
  history.DecisionTask();
  history.DecisionCompleted();
  auto s = history.Scheduled("flow_a-1", "flow_a");
  history.Failed(s, "503");
  history.DecisionTask();
  EXPECT_THAT(ScheduledIds(Decisions(flow, history.State(), kRun)), ElementsAre("flow_a-1"));
  history.DecisionCompleted();
  s = history.Scheduled("flow_a-1", "flow_a");
  history.TimedOut(s, "START_TO_CLOSE");
  history.DecisionTask();
  EXPECT_THAT(ScheduledIds(Decisions(flow, history.State(), kRun)), ElementsAre("flow_a-1"));
  history.DecisionCompleted();
  s = history.Scheduled("flow_a-1", "flow_a");
  history.Failed(s, "400 bad request");
  history.DecisionTask();
  const auto decisions = Decisions(flow, history.State(), kRun);
  ASSERT_THAT(Types(decisions), ElementsAre("FailWorkflowExecution"));
  const Json& fail = decisions[0]["failWorkflowExecutionDecisionAttributes"];
  EXPECT_EQ(fail["reason"], "a attempt 3 of 6: 400 bad request");
  EXPECT_EQ(Json::parse(fail["details"].get<std::string>())["attempts"], 3);
}

TEST(RetryPolicyTest, RetriesStopWhenTheBudgetWouldBeExceeded) {
  Flow flow("dev", "flow");
  RetryPolicy policy = Backoff(10, 10);
  policy.budget = std::chrono::seconds(25);
  flow.Activity("a").Run(Sync(WholeContext())).Retry(policy);
  History history;
  history.Started();
  history.DecisionTask();
  history.DecisionCompleted();
  auto s = history.Scheduled("flow_a-1", "flow_a");
  history.Failed(s, "down");
  history.DecisionTask();
  // About 2 s after the first attempt, a 10 s wait fits in 25 s.
  ASSERT_THAT(Types(Decisions(flow, history.State(), kRun)), ElementsAre("StartTimer"));
  history.DecisionCompleted();
  auto t = history.TimerStarted("retry-" + std::to_string(s), "flow_a-1", "10");
  history.Skip(10);
  history.TimerFired("retry-" + std::to_string(s), t);
  history.DecisionTask();
  history.DecisionCompleted();
  s = history.Scheduled("flow_a-1", "flow_a");
  history.Failed(s, "down");
  history.DecisionTask();
  // About 20 s in, the next wait (20 s) would end past 25 s.
  const auto decisions = Decisions(flow, history.State(), kRun);
  ASSERT_THAT(Types(decisions), ElementsAre("FailWorkflowExecution"));
  EXPECT_EQ(decisions[0]["failWorkflowExecutionDecisionAttributes"]["reason"],
            "a attempt 2 of 11: retry budget of 25 s spent: down");
}

TEST(RetryPolicyTest, ACancelRequestDuringABackoffCancelsTheTimerAndClosesTheRun) {
  Flow flow("dev", "flow");
  flow.Activity("a").Run(Sync(WholeContext())).Retry(Backoff(3, 3600));
  History history;
  history.Started();
  history.DecisionTask();
  history.DecisionCompleted();
  const auto s = history.Scheduled("flow_a-1", "flow_a");
  history.Failed(s, "down");
  history.DecisionTask();
  history.DecisionCompleted();
  history.TimerStarted("retry-" + std::to_string(s), "flow_a-1", "3600");
  history.Add("WorkflowExecutionCancelRequested");
  history.DecisionTask();
  const auto decisions = Decisions(flow, history.State(), kRun);
  ASSERT_THAT(Types(decisions), ElementsAre("CancelTimer", "CancelWorkflowExecution"));
  EXPECT_EQ(decisions[0]["cancelTimerDecisionAttributes"]["timerId"], "retry-" + std::to_string(s));
}

TEST(RetryPolicyTest, NonsensePoliciesAreRefused) {
  Flow flow("dev", "flow");
  auto& a = flow.Activity("a");
  RetryPolicy p;
  p.retries = -1;
  EXPECT_THROW(a.Retry(p), std::invalid_argument);
  p = RetryPolicy{};
  p.multiplier = 0.5;
  EXPECT_THROW(a.Retry(p), std::invalid_argument);
  p = RetryPolicy{};
  p.jitter = 1.5;
  EXPECT_THROW(a.Retry(p), std::invalid_argument);
  EXPECT_THROW(a.Retry(Backoff(1, 60, 2.0, 10)), std::invalid_argument);
  EXPECT_THROW(a.Retry(Backoff(1, -1)), std::invalid_argument);
  a.Retry(Backoff(2, 5));
  a.Retry(4);  // keeps the backoff
  EXPECT_EQ(a.retry(), 4);
  EXPECT_EQ(a.retry_policy().initial_interval, std::chrono::seconds(5));
}

// ---------------------------------------------------------------------------
// Timers and signals: an activity may wait a delay after its requirements,
// or a signal; custom deciders have schedule.Timer and schedule.Signal.

TEST(TimerSignalTest, AfterStartsATimerOnceTheRequirementsAreCompleteThenSchedules) {
  Flow flow("dev", "flow");
  auto& first = flow.Activity("first").Run(Sync(WholeContext()));
  flow.Activity("later").Requires({&first}).After(std::chrono::minutes(30)).Run(
      Sync(WholeContext()));
  History history;
  history.Started();
  history.DecisionTask();
  EXPECT_THAT(ScheduledIds(Decisions(flow, history.State(), kRun)), ElementsAre("flow_first-1"));
  history.DecisionCompleted();
  const auto s = history.Scheduled("flow_first-1", "flow_first");
  history.Completed(s, Json{{"first", 1}});
  history.DecisionTask();
  auto decisions = Decisions(flow, history.State(), kRun);
  ASSERT_THAT(Types(decisions), ElementsAre("StartTimer"));
  EXPECT_EQ(decisions[0]["startTimerDecisionAttributes"]["timerId"], "after-later");
  EXPECT_EQ(decisions[0]["startTimerDecisionAttributes"]["startToFireTimeout"], "1800");
  history.DecisionCompleted();
  const auto t = history.TimerStarted("after-later", "flow_later", "1800");
  history.DecisionTask();
  EXPECT_THAT(Decisions(flow, history.State(), kRun), IsEmpty()) << "waiting, not stuck";
  history.DecisionCompleted();
  history.TimerFired("after-later", t);
  history.DecisionTask();
  EXPECT_THAT(ScheduledIds(Decisions(flow, history.State(), kRun)), ElementsAre("flow_later-1"));
}

TEST(TimerSignalTest, AnActivityAwaitsItsSignalAndSeesWhatItCarried) {
  Flow flow("dev", "flow");
  auto& first = flow.Activity("first").Run(Sync(WholeContext()));
  flow.Activity("charge").Requires({&first}).AwaitSignal("approved").Run(Sync(WholeContext()));
  History history;
  history.Started();
  history.DecisionTask();
  history.DecisionCompleted();
  const auto s = history.Scheduled("flow_first-1", "flow_first");
  history.Completed(s, Json{{"first", 1}});
  history.DecisionTask();
  EXPECT_THAT(Decisions(flow, history.State(), kRun), IsEmpty()) << "waits for the signal";
  history.DecisionCompleted();
  history.Add("WorkflowExecutionSignaled",
              {{"signalName", "approved"}, {"input", R"({"approver":"ana"})"}});
  history.DecisionTask();
  const auto decisions = Decisions(flow, history.State(), kRun);
  ASSERT_THAT(ScheduledIds(decisions), ElementsAre("flow_charge-1"));
  EXPECT_EQ(Json::parse(ScheduleAttributes(decisions, "flow_charge-1")
                            .at("input")
                            .get<std::string>())
                .value("approver", ""),
            "ana");
}

TEST(TimerSignalTest, ASignalBeforeTheRequirementsAreCompleteStillCounts) {
  Flow flow("dev", "flow");
  auto& first = flow.Activity("first").Run(Sync(WholeContext()));
  flow.Activity("go").Requires({&first}).AwaitSignal("go").Run(Sync(WholeContext()));
  History history;
  history.Started();
  history.Add("WorkflowExecutionSignaled", {{"signalName", "go"}, {"input", "now"}});
  history.DecisionTask();
  history.DecisionCompleted();
  const auto s = history.Scheduled("flow_first-1", "flow_first");
  history.Completed(s, Json::object());
  history.DecisionTask();
  const auto decisions = Decisions(flow, history.State(), kRun);
  ASSERT_THAT(ScheduledIds(decisions), ElementsAre("flow_go-1"));
  // An input that is not a JSON object arrives under the signal's name.
  EXPECT_EQ(Json::parse(ScheduleAttributes(decisions, "flow_go-1").at("input").get<std::string>())
                .value("go", ""),
            "now");
}

TEST(TimerSignalTest, ACustomDeciderWaitsOnTimersAndSignals) {
  Flow flow("dev", "flow");
  auto& work = flow.Activity("work").Run(Sync(WholeContext()));
  flow.Decider([&work](Schedule& schedule, const Context&) {
    ActivityState cool = schedule.Timer("cool", std::chrono::seconds(90));
    ActivityState go = schedule.Signal("go");
    schedule("w", work, {cool, go}, Context{{"who", go.ready() ? go.result().value("who", "") : ""}});
  });
  History history;
  history.Started();
  history.DecisionTask();
  auto decisions = Decisions(flow, history.State(), kRun);
  ASSERT_THAT(Types(decisions), ElementsAre("StartTimer"));
  EXPECT_EQ(decisions[0]["startTimerDecisionAttributes"]["timerId"], "timer-cool");
  history.DecisionCompleted();
  const auto t = history.TimerStarted("timer-cool", "", "90");
  history.TimerFired("timer-cool", t);
  history.DecisionTask();
  EXPECT_THAT(Decisions(flow, history.State(), kRun), IsEmpty()) << "the signal is still awaited";
  history.DecisionCompleted();
  history.Add("WorkflowExecutionSignaled", {{"signalName", "go"}, {"input", R"({"who":"bo"})"}});
  history.DecisionTask();
  decisions = Decisions(flow, history.State(), kRun);
  ASSERT_THAT(ScheduledIds(decisions), ElementsAre("flow_work-1-w"));
  EXPECT_EQ(Json::parse(ScheduleAttributes(decisions, "flow_work-1-w").at("input").get<std::string>())
                .value("who", ""),
            "bo");
}

// ---------------------------------------------------------------------------
// Partial results: Optional and AllowFailures; readable failures.

// Decides, then answers every ScheduleActivityTask of the decision with
// `answer(activity id)` (a result object, or a string: the failure reason),
// until the run closes. Returns the closing decision.
Json RunToClose(const Flow& flow, const std::function<Json(const std::string&)>& answer,
                std::map<std::string, Json>* inputs = nullptr) {
  History history;
  history.Started();
  for (int round = 0; round < 50; ++round) {
    history.DecisionTask();
    const auto decisions = Decisions(flow, history.State(), kRun);
    history.DecisionCompleted();
    std::vector<std::pair<std::int64_t, std::string>> scheduled;
    for (const auto& d : decisions) {
      const std::string type = d.at("decisionType");
      if (type == "CompleteWorkflowExecution" || type == "FailWorkflowExecution") return d;
      if (type != "ScheduleActivityTask") continue;
      const Json& a = d.at("scheduleActivityTaskDecisionAttributes");
      if (inputs) (*inputs)[a.at("activityId")] = Json::parse(a.at("input").get<std::string>());
      scheduled.emplace_back(history.Scheduled(a.at("activityId"), a.at("activityType").at("name")),
                             a.at("activityId"));
    }
    for (const auto& [s, id] : scheduled) {
      const Json outcome = answer(id);
      if (outcome.is_string()) {
        history.Failed(s, outcome.get<std::string>());
      } else {
        history.Completed(s, outcome);
      }
    }
  }
  ADD_FAILURE() << "the run did not close";
  return Json::object();
}

Json Values(int n) { return Json{{"generator.n", n}}; }

std::string IdOf(const Flow& flow, const std::string& activity, const Json& values) {
  return ActivityInstance(flow.FindActivity(activity), values, nullptr, 1).id();
}

Flow& ThreeInstances(Flow& flow, int retries, const std::function<void(Activity&)>& allow) {
  auto& each = flow.Activity("each")
                   .Generator([](const Context&) {
                     return std::vector<Context>{Values(1), Values(2), Values(3)};
                   })
                   .Retry(retries)
                   .Run(Sync(WholeContext()));
  allow(each);
  flow.Activity("after").Requires({&each}).Run(Sync(WholeContext()));
  return flow;
}

TEST(PartialResultTest, AnOptionalActivityFailsWithoutFailingTheRun) {
  Flow flow("dev", "flow");
  auto& opt = flow.Activity("opt").Optional().Retry(1).Run(Sync(WholeContext()));
  flow.Activity("after").Requires({&opt}).Run(Sync(WholeContext()));
  const Json close = RunToClose(flow, [&](const std::string& id) -> Json {
    if (id == "flow_opt-1") return "service down";
    return Json{{"after", "ran"}};
  });
  ASSERT_EQ(close.at("decisionType"), "CompleteWorkflowExecution") << close.dump();
  const Json result =
      Json::parse(close["completeWorkflowExecutionDecisionAttributes"]["result"].get<std::string>());
  EXPECT_EQ(result["after"], "ran");
  ASSERT_EQ(result["opt.failed"].size(), 1u);
  EXPECT_EQ(result["opt.failed"][0]["activityId"], "flow_opt-1");
  EXPECT_EQ(result["opt.failed"][0]["attempts"], 2);
  EXPECT_EQ(result["opt.failed"][0]["reason"], "service down");
}

TEST(PartialResultTest, LaterActivitiesSeeWhichInstancesFailed) {
  Flow flow("dev", "flow");
  ThreeInstances(flow, 0, [](Activity& a) { a.AllowFailures(1); });
  std::map<std::string, Json> inputs;
  const Json close = RunToClose(
      flow,
      [&](const std::string& id) -> Json {
        if (id.starts_with("flow_after")) return Json{{"after", "ran"}};
        return id == IdOf(flow, "each", Values(2)) ? Json("n=2 is broken") : Json::object();
      },
      &inputs);
  ASSERT_EQ(close.at("decisionType"), "CompleteWorkflowExecution") << close.dump();
  // The activity after it got the list in its input.
  ASSERT_EQ(inputs["flow_after-1"]["each.failed"].size(), 1u);
  EXPECT_EQ(inputs["flow_after-1"]["each.failed"][0]["values"], Values(2));
  const Json result =
      Json::parse(close["completeWorkflowExecutionDecisionAttributes"]["result"].get<std::string>());
  ASSERT_EQ(result["each.failed"].size(), 1u);
  EXPECT_EQ(result["each.failed"][0]["values"], Values(2));
  EXPECT_EQ(result["each.failed"][0]["reason"], "n=2 is broken");
}

TEST(PartialResultTest, MoreFailuresThanAllowedFailTheRunSayingHowMany) {
  Flow flow("dev", "flow");
  ThreeInstances(flow, 0, [](Activity& a) { a.AllowFailures(1); });
  const Json close = RunToClose(flow, [&](const std::string& id) -> Json {
    return id == IdOf(flow, "each", Values(1)) ? Json::object() : Json("broken");
  });
  ASSERT_EQ(close.at("decisionType"), "FailWorkflowExecution");
  const std::string reason = close["failWorkflowExecutionDecisionAttributes"]["reason"];
  EXPECT_THAT(reason, HasSubstr("each (generator.n="));
  EXPECT_THAT(reason, HasSubstr("attempt 1 of 1: broken"));
  EXPECT_THAT(reason, HasSubstr("(2 of 3 instances failed; 1 allowed)"));
}

TEST(PartialResultTest, AFractionAllowsThatShareOfTheInstances) {
  Flow flow("dev", "flow");
  ThreeInstances(flow, 0, [](Activity& a) { a.AllowFailures(0.7); });  // 2 of 3
  const Json close = RunToClose(flow, [&](const std::string& id) -> Json {
    if (id.starts_with("flow_after")) return Json::object();
    return id == IdOf(flow, "each", Values(1)) ? Json::object() : Json("broken");
  });
  ASSERT_EQ(close.at("decisionType"), "CompleteWorkflowExecution") << close.dump();
  EXPECT_THROW(flow.Activity("bad").AllowFailures(1.5), std::invalid_argument);
  EXPECT_THROW(flow.Activity("bad2").AllowFailures(-1), std::invalid_argument);
}

TEST(ReadableFailureTest, TheReasonNamesTheInstanceByItsGeneratorValues) {
  Flow flow("dev", "flow");
  ThreeInstances(flow, 2, [](Activity&) {});
  const Json close = RunToClose(flow, [&](const std::string& id) -> Json {
    return id == IdOf(flow, "each", Values(3)) ? Json("disk full") : Json::object();
  });
  ASSERT_EQ(close.at("decisionType"), "FailWorkflowExecution");
  const Json& fail = close["failWorkflowExecutionDecisionAttributes"];
  EXPECT_EQ(fail["reason"], "each (generator.n=3) attempt 3 of 3: disk full");
  const Json details = Json::parse(fail["details"].get<std::string>());
  EXPECT_EQ(details["activity"], "each");
  EXPECT_EQ(details["values"], Values(3));
  EXPECT_EQ(details["attempts"], 3);
}

TEST(ReadableFailureTest, AResultThatIsNotAnObjectIsAFailedAttempt) {
  Flow flow("dev", "flow");
  flow.Activity("a").Retry(1).Run(Sync(WholeContext()));
  History history;
  history.Started();
  history.DecisionTask();
  history.DecisionCompleted();
  auto s = history.Scheduled("flow_a-1", "flow_a");
  history.Completed(s, "[1, 2]");  // what an external worker might send
  history.DecisionTask();
  EXPECT_EQ(history.State().Find("flow_a-1")->last_reason, "the result is not a JSON object");
  EXPECT_THAT(ScheduledIds(Decisions(flow, history.State(), kRun)), ElementsAre("flow_a-1"));
  history.DecisionCompleted();
  s = history.Scheduled("flow_a-1", "flow_a");
  history.Completed(s, "42");
  history.DecisionTask();
  const Json fail = FailAttributes(Decisions(flow, history.State(), kRun));
  EXPECT_EQ(fail.value("reason", ""), "a attempt 2 of 2: the result is not a JSON object");
  EXPECT_EQ(Json::parse(fail.value("details", "{}"))["details"], "42");
}

// ---------------------------------------------------------------------------
// Child flows: an activity run as a child workflow.

Json ChildStart(const std::vector<Json>& decisions) {
  for (const auto& d : decisions) {
    if (d.at("decisionType") == "StartChildWorkflowExecution") {
      return d.at("startChildWorkflowExecutionDecisionAttributes");
    }
  }
  ADD_FAILURE() << "no StartChildWorkflowExecution";
  return Json::object();
}

std::int64_t ChildInitiated(History& history, const Json& start) {
  return history.Add("StartChildWorkflowExecutionInitiated",
                     {{"workflowId", start.at("workflowId")},
                      {"workflowType", start.at("workflowType")},
                      {"control", start.at("control")},
                      {"input", start.at("input")},
                      {"taskList", start.at("taskList")},
                      {"childPolicy", start.at("childPolicy")},
                      {"decisionTaskCompletedEventId", history.size()}});
}

TEST(ChildFlowTest, AChildRunsTheOtherFlowAndItsResultIsMerged) {
  Flow child("dev", "packing", "3.0");
  child.Activity("pack").Run(Sync(WholeContext()));
  Flow flow("dev", "flow");
  auto& packed = flow.Activity("packed").Run(Child(child, ChildPolicy::kRequestCancel));
  flow.Activity("ship").Requires({&packed}).Run(Sync(WholeContext()));
  History history;
  history.Started(Json{{"order", 7}}, "flow@1.0~run-9");
  history.DecisionTask();
  auto decisions = Decisions(flow, history.State(), kRun);
  ASSERT_THAT(Types(decisions), ElementsAre("StartChildWorkflowExecution"));
  const Json start = ChildStart(decisions);
  EXPECT_EQ(start.at("workflowType"), (Json{{"name", "packing"}, {"version", "3.0"}}));
  EXPECT_EQ(start.at("workflowId"), "wf-1.flow_packed-1");
  EXPECT_EQ(start.at("control"), "flow_packed-1");
  EXPECT_EQ(start.at("taskList"), (Json{{"name", "packing@3.0~run-9"}}));
  EXPECT_EQ(start.at("childPolicy"), "REQUEST_CANCEL");
  EXPECT_EQ(Json::parse(start.at("input").get<std::string>()).value("order", 0), 7);

  history.DecisionCompleted();
  const auto initiated = ChildInitiated(history, start);
  history.Add("ChildWorkflowExecutionStarted",
              {{"initiatedEventId", initiated},
               {"workflowExecution", {{"workflowId", "wf-1.flow_packed-1"}, {"runId", "c1"}}}});
  history.DecisionTask();
  EXPECT_THAT(Decisions(flow, history.State(), kRun), IsEmpty()) << "the child runs";
  history.DecisionCompleted();
  history.Add("ChildWorkflowExecutionCompleted",
              {{"initiatedEventId", initiated}, {"result", R"({"boxes":2})"}});
  history.DecisionTask();
  decisions = Decisions(flow, history.State(), kRun);
  ASSERT_THAT(ScheduledIds(decisions), ElementsAre("flow_ship-1"));
  EXPECT_EQ(Json::parse(ScheduleAttributes(decisions, "flow_ship-1").at("input").get<std::string>())
                .value("boxes", 0),
            2);
}

TEST(ChildFlowTest, AFailedChildIsRetriedLikeAnActivityThenFailsTheRun) {
  Flow child("dev", "packing");
  child.Activity("pack").Run(Sync(WholeContext()));
  Flow flow("dev", "flow");
  flow.Activity("packed").Retry(1).Run(Child(child));
  History history;
  history.Started();
  history.DecisionTask();
  Json start = ChildStart(Decisions(flow, history.State(), kRun));
  EXPECT_EQ(start.at("childPolicy"), "TERMINATE");
  history.DecisionCompleted();
  auto initiated = ChildInitiated(history, start);
  history.Add("ChildWorkflowExecutionFailed",
              {{"initiatedEventId", initiated}, {"reason", "out of boxes"}, {"details", "d"}});
  history.DecisionTask();
  start = ChildStart(Decisions(flow, history.State(), kRun));  // the retry, same workflow id
  EXPECT_EQ(start.at("workflowId"), "wf-1.flow_packed-1");
  history.DecisionCompleted();
  initiated = ChildInitiated(history, start);
  history.Add("ChildWorkflowExecutionTimedOut",
              {{"initiatedEventId", initiated}, {"timeoutType", "START_TO_CLOSE"}});
  history.DecisionTask();
  const Json fail = FailAttributes(Decisions(flow, history.State(), kRun));
  EXPECT_EQ(fail.value("reason", ""), "packed attempt 2 of 2: child timed out: START_TO_CLOSE");
}

TEST(ChildFlowTest, ACancelRequestAsksTheOpenChildToCancel) {
  Flow child("dev", "packing");
  child.Activity("pack").Run(Sync(WholeContext()));
  Flow flow("dev", "flow");
  flow.Activity("packed").Run(Child(child));
  History history;
  history.Started();
  history.DecisionTask();
  const Json start = ChildStart(Decisions(flow, history.State(), kRun));
  history.DecisionCompleted();
  const auto initiated = ChildInitiated(history, start);
  history.Add("ChildWorkflowExecutionStarted",
              {{"initiatedEventId", initiated},
               {"workflowExecution", {{"workflowId", "wf-1.flow_packed-1"}, {"runId", "c1"}}}});
  history.Add("WorkflowExecutionCancelRequested");
  history.DecisionTask();
  auto decisions = Decisions(flow, history.State(), kRun);
  ASSERT_THAT(Types(decisions), ElementsAre("RequestCancelExternalWorkflowExecution"));
  const Json& a = decisions[0]["requestCancelExternalWorkflowExecutionDecisionAttributes"];
  EXPECT_EQ(a["workflowId"], "wf-1.flow_packed-1");
  EXPECT_EQ(a["runId"], "c1");
  history.DecisionCompleted();
  history.Add("RequestCancelExternalWorkflowExecutionInitiated",
              {{"workflowId", "wf-1.flow_packed-1"}, {"runId", "c1"}, {"control", "flow_packed-1"}});
  history.Add("ChildWorkflowExecutionCanceled", {{"initiatedEventId", initiated}});
  history.DecisionTask();
  decisions = Decisions(flow, history.State(), kRun);
  EXPECT_THAT(Types(decisions), ElementsAre("CancelWorkflowExecution"));
}

TEST(ChildFlowTest, AChildOfAnotherDomainIsRefused) {
  Flow child("elsewhere", "packing");
  Flow flow("dev", "flow");
  EXPECT_THROW(flow.Activity("packed").Run(Child(child)), std::invalid_argument);
}

// ---------------------------------------------------------------------------
// Fan-outs past SWF's 1,000 open activity tasks: a window.

std::vector<Context> Numbers(int n) {
  std::vector<Context> out;
  for (int i = 0; i < n; ++i) out.push_back({{"generator.i", i}});
  return out;
}

TEST(WindowTest, AFanOutPastTheOpenLimitIsScheduledAsInstancesClose) {
  Flow flow("dev", "flow");
  flow.Activity("each").Generator([](const Context&) { return Numbers(1500); }).Run(
      Sync(WholeContext()));
  History history;
  history.Started();
  history.DecisionTask();
  auto decisions = Decisions(flow, history.State(), kRun);
  ASSERT_EQ(ScheduledIds(decisions).size(), 1000u) << "SWF allows 1,000 open activity tasks";
  history.DecisionCompleted();
  std::vector<std::int64_t> scheduled;
  for (const auto& id : ScheduledIds(decisions)) scheduled.push_back(history.Scheduled(id, "flow_each"));
  for (int i = 0; i < 10; ++i) history.Completed(scheduled[static_cast<std::size_t>(i)], Json::object());
  history.DecisionTask();
  EXPECT_EQ(ScheduledIds(Decisions(flow, history.State(), kRun)).size(), 10u);
}

TEST(WindowTest, MaxConcurrentKeepsThatManyInstancesOpen) {
  Flow flow("dev", "flow");
  flow.Activity("each")
      .Generator([](const Context&) { return Numbers(5); })
      .MaxConcurrent(2)
      .Run(Sync(WholeContext()));
  History history;
  history.Started();
  history.DecisionTask();
  auto decisions = Decisions(flow, history.State(), kRun);
  ASSERT_EQ(ScheduledIds(decisions).size(), 2u);
  history.DecisionCompleted();
  const auto first = history.Scheduled(ScheduledIds(decisions)[0], "flow_each");
  history.Scheduled(ScheduledIds(decisions)[1], "flow_each");
  history.DecisionTask();
  EXPECT_THAT(Decisions(flow, history.State(), kRun), IsEmpty()) << "two are open";
  history.DecisionCompleted();
  history.Completed(first, Json::object());
  history.DecisionTask();
  EXPECT_EQ(ScheduledIds(Decisions(flow, history.State(), kRun)).size(), 1u);
  EXPECT_THROW(flow.Activity("bad").MaxConcurrent(0), std::invalid_argument);
}

// ---------------------------------------------------------------------------
// Fan-outs past one run's reach: slices of kInstancesPerSlice instances, each
// a child run of the same flow.

std::vector<Json> ChildStarts(const std::vector<Json>& decisions) {
  std::vector<Json> out;
  for (const auto& d : decisions) {
    if (d.at("decisionType") == "StartChildWorkflowExecution") {
      out.push_back(d.at("startChildWorkflowExecutionDecisionAttributes"));
    }
  }
  return out;
}

Json InputOf(const Json& attributes) { return Json::parse(attributes.at("input").get<std::string>()); }

// Runs the slice whose StartChildWorkflowExecution is `start` to its close:
// every instance completes with {"r.{i}": i}, except generator.i == `failing`,
// whose every attempt fails. Returns the slice run's last decisions.
std::vector<Json> RunSlice(const Flow& flow, const Json& start, int failing) {
  const ExecutionRef run{"dev", start.at("workflowId").get<std::string>(), "slice-run"};
  History history;
  history.Started(start.at("input"), start.at("taskList").at("name").get<std::string>());
  std::map<std::string, int> items;  // activity id -> generator.i
  for (int round = 0; round < 100; ++round) {
    history.DecisionTask();
    std::vector<Json> decisions = Decisions(flow, history.State(), run);
    history.DecisionCompleted();
    std::vector<std::int64_t> scheduled;
    for (const auto& d : decisions) {
      if (d.at("decisionType") != "ScheduleActivityTask") return decisions;
      const Json& a = d.at("scheduleActivityTaskDecisionAttributes");
      const Json input = InputOf(a);
      EXPECT_FALSE(input.contains(kSliceKey)) << "instances do not see the slice's values";
      items[a.at("activityId")] = input.value("generator.i", -1);
      scheduled.push_back(
          history.Scheduled(a.at("activityId"), a.at("activityType").at("name")));
    }
    if (round == 0) {
      const std::size_t instances = InputOf(start).at(kSliceKey).at("values").size();
      EXPECT_EQ(scheduled.size(), std::min<std::size_t>(1000, instances))
          << "a slice's run keeps SWF's open limit";
    }
    for (std::size_t k = 0; k < scheduled.size(); ++k) {
      const Json& a = decisions[k].at("scheduleActivityTaskDecisionAttributes");
      const int i = items[a.at("activityId")];
      history.ActivityStarted(scheduled[k]);
      if (i == failing) {
        history.Failed(scheduled[k], "boom");
      } else {
        history.Completed(scheduled[k], Json{{"r." + std::to_string(i), i}});
      }
    }
  }
  ADD_FAILURE() << "the slice never closed";
  return {};
}

TEST(SliceTest, AFanOutPastASliceRunsInChildRunsOfTheSameFlowAndMergesTheirResults) {
  for (const int allowed : {0, 1}) {
    Flow flow("dev", "flow");
    auto& each = flow.Activity("each")
                     .Generator([](const Context&) { return Numbers(4500); })
                     .Retry(1)
                     .AllowFailures(allowed)
                     .Run(Sync(WholeContext()));
    flow.Activity("after").Requires({&each}).Run(Sync(WholeContext()));
    History history;
    history.Started(Json{{"order", 7}}, "flow@1.0~run-9");
    history.DecisionTask();
    const auto decisions = Decisions(flow, history.State(), kRun);
    EXPECT_THAT(ScheduledIds(decisions), IsEmpty());
    const auto starts = ChildStarts(decisions);
    ASSERT_EQ(starts.size(), 3u) << "4,500 instances: slices of 2,000, 2,000 and 500";
    for (std::size_t k = 0; k < starts.size(); ++k) {
      const Json& start = starts[k];
      const std::string id = "flow_each-slice-" + std::to_string(k + 1);
      EXPECT_EQ(start.at("workflowType"), (Json{{"name", "flow"}, {"version", "1.0"}}));
      EXPECT_EQ(start.at("control"), id);
      EXPECT_EQ(start.at("workflowId"), "wf-1." + id);
      EXPECT_EQ(start.at("taskList"), (Json{{"name", "flow@1.0~run-9"}}));
      EXPECT_EQ(start.at("childPolicy"), "TERMINATE");
      const Json input = InputOf(start);
      EXPECT_EQ(input.value("order", 0), 7) << "a slice sees the parent's context";
      const Json& slice = input.at(kSliceKey);
      EXPECT_EQ(slice.at("activity"), "flow_each");
      EXPECT_EQ(slice.at("count"), 4500);
      EXPECT_EQ(slice.at("values").size(), k < 2 ? 2000u : 500u);
      EXPECT_EQ(slice.at("values")[0], (Json{{"generator.i", 2000 * static_cast<int>(k)}}));
    }

    // The slices' own runs: the second gives up generator.i 2345.
    std::vector<Json> results;
    for (std::size_t k = 0; k < starts.size(); ++k) {
      const auto last = RunSlice(flow, starts[k], k == 1 ? 2345 : -1);
      ASSERT_THAT(Types(last), ElementsAre("CompleteWorkflowExecution"));
      results.push_back(Json::parse(last[0]
                                        .at("completeWorkflowExecutionDecisionAttributes")
                                        .at("result")
                                        .get<std::string>()));
    }
    EXPECT_EQ(results[0].size(), 2000u) << "its instances' results, not the parent's context";
    EXPECT_FALSE(results[0].contains("order"));
    ASSERT_TRUE(results[1].contains(kSliceFailedKey));
    EXPECT_EQ(results[1].at(kSliceFailedKey).size(), 1u);
    EXPECT_EQ(results[1].at(kSliceFailedKey)[0].at("values"), (Json{{"generator.i", 2345}}));
    EXPECT_EQ(results[1].size(), 2000u) << "1,999 results and the list of the one given up";

    history.DecisionCompleted();
    for (std::size_t k = 0; k < starts.size(); ++k) {
      const auto initiated = ChildInitiated(history, starts[k]);
      history.Add("ChildWorkflowExecutionStarted",
                  {{"initiatedEventId", initiated},
                   {"workflowExecution",
                    {{"workflowId", starts[k].at("workflowId")}, {"runId", "c" + std::to_string(k)}}}});
      history.Add("ChildWorkflowExecutionCompleted",
                  {{"initiatedEventId", initiated}, {"result", results[k].dump()}});
    }
    history.DecisionTask();
    const auto next = Decisions(flow, history.State(), kRun);
    if (allowed == 0) {
      const Json fail = FailAttributes(next);
      EXPECT_EQ(fail.value("reason", ""), "each (generator.i=2345) attempt 2 of 2: boom");
      continue;
    }
    ASSERT_THAT(ScheduledIds(next), ElementsAre("flow_after-1"));
    const Json input = InputOf(ScheduleAttributes(next, "flow_after-1"));
    int results_seen = 0;
    for (const auto& item : input.items()) results_seen += item.key().starts_with("r.") ? 1 : 0;
    EXPECT_EQ(results_seen, 4499) << "every instance's result reaches the next activity";
    EXPECT_FALSE(input.contains(kSliceFailedKey));
    ASSERT_EQ(input.at("each.failed").size(), 1u);
    EXPECT_EQ(input.at("each.failed")[0].at("values"), (Json{{"generator.i", 2345}}));
  }
}

TEST(SliceTest, EightSlicesRunAtOnceAndTheOthersAsThoseClose) {
  Flow flow("dev", "flow");
  flow.Activity("each").Generator([](const Context&) { return Numbers(20001); }).Run(
      Sync(WholeContext()));
  History history;
  history.Started();
  history.DecisionTask();
  // One state fed the new events, as a running decider keeps it.
  HistoryState state = history.State();
  const auto starts = ChildStarts(Decisions(flow, state, kRun));
  ASSERT_EQ(starts.size(), kSlicesAtOnce) << "11 slices, 8 at once";
  const std::size_t applied = history.size();
  history.DecisionCompleted();
  const auto initiated = ChildInitiated(history, starts[3]);
  for (std::size_t k = 0; k < starts.size(); ++k) {
    if (k != 3) ChildInitiated(history, starts[k]);
  }
  history.Add("ChildWorkflowExecutionCompleted",
              {{"initiatedEventId", initiated}, {"result", R"({"from.slice.4":1})"}});
  history.DecisionTask();
  for (std::size_t i = applied; i < history.size(); ++i) state.Apply(history.events()[i]);
  const auto next = ChildStarts(Decisions(flow, state, kRun));
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].at("control"), "flow_each-slice-9");
  EXPECT_EQ(InputOf(next[0]).at(kSliceKey).at("slices"), 11);
  EXPECT_EQ(state.context().value("from.slice.4", 0), 1) << "merged in the parent";
  EXPECT_FALSE(InputOf(next[0]).contains("from.slice.4"))
      << "a slice sees the context from when the activity became ready, not earlier slices' results";
}

TEST(SliceTest, MaxConcurrentRunsAsManySlicesAsItHoldsAndAFailedSliceIsRetried) {
  for (const auto& [max, slices] : std::vector<std::pair<int, std::size_t>>{
           {0, 3}, {100, 1}, {2000, 1}, {4000, 2}, {1000000, 3}}) {
    Flow flow("dev", "flow");
    auto& each = flow.Activity("each").Generator([](const Context&) { return Numbers(6000); });
    if (max > 0) each.MaxConcurrent(max);
    each.Run(Sync(WholeContext()));
    History history;
    history.Started();
    history.DecisionTask();
    const auto starts = ChildStarts(Decisions(flow, history.State(), kRun));
    ASSERT_EQ(starts.size(), slices) << "MaxConcurrent " << max;
    if (max == 100) {
      // The slice's run keeps MaxConcurrent itself.
      History slice;
      slice.Started(starts[0].at("input"));
      slice.DecisionTask();
      EXPECT_EQ(ScheduledIds(Decisions(flow, slice.State(), kRun)).size(), 100u);
      // A slice's run that fails is retried like an instance, then fails the run.
      history.DecisionCompleted();
      const auto initiated = ChildInitiated(history, starts[0]);
      history.Add("ChildWorkflowExecutionTimedOut",
                  {{"initiatedEventId", initiated}, {"timeoutType", "START_TO_CLOSE"}});
      history.DecisionTask();
      // A slice's run that failed is not run again (its completed instances
      // would run twice): its instances are given up, past the allowance.
      const Json fail = FailAttributes(Decisions(flow, history.State(), kRun));
      EXPECT_EQ(fail.value("reason", ""),
                "each (generator.i=1999) attempt 1 of 1: slice 1 of 3: child timed out: "
                "START_TO_CLOSE");
    }
  }
}

TEST(SliceTest, AFailedSliceOfAnOptionalFanOutGivesUpItsInstancesAndTheFlowGoesOn) {
  Flow flow("dev", "flow");
  auto& each = flow.Activity("each")
                   .Generator([](const Context&) { return Numbers(4500); })
                   .Retry(3)
                   .Optional()
                   .Run(Sync(WholeContext()));
  flow.Activity("after").Requires({&each}).Run(Sync(WholeContext()));
  History history;
  history.Started();
  history.DecisionTask();
  const auto starts = ChildStarts(Decisions(flow, history.State(), kRun));
  ASSERT_EQ(starts.size(), 3u);
  EXPECT_EQ(InputOf(starts[0]).at(kSliceKey).at("workflowId"), "wf-1");
  EXPECT_EQ(InputOf(starts[0]).at(kSliceKey).at("runId"), "run-1");
  history.DecisionCompleted();
  std::vector<std::int64_t> initiated;
  for (const auto& start : starts) initiated.push_back(ChildInitiated(history, start));
  history.Add("ChildWorkflowExecutionTerminated", {{"initiatedEventId", initiated[1]}});
  history.DecisionTask();
  EXPECT_THAT(Decisions(flow, history.State(), kRun), IsEmpty())
      << "not started again despite Retry(3)";
  history.DecisionCompleted();
  history.Add("ChildWorkflowExecutionCompleted",
              {{"initiatedEventId", initiated[0]}, {"result", R"({"r.0":0})"}});
  history.Add("ChildWorkflowExecutionCompleted",
              {{"initiatedEventId", initiated[2]}, {"result", R"({"r.4000":4000})"}});
  history.DecisionTask();
  const auto next = Decisions(flow, history.State(), kRun);
  ASSERT_THAT(ScheduledIds(next), ElementsAre("flow_after-1"));
  const Json failed = InputOf(ScheduleAttributes(next, "flow_after-1")).at("each.failed");
  ASSERT_EQ(failed.size(), 2000u) << "slice 2's instances, given up";
  EXPECT_EQ(failed[0].at("values"), (Json{{"generator.i", 2000}}));
  EXPECT_EQ(failed[0].at("reason"), "slice 2 of 3: child terminated");
  EXPECT_THAT(failed[0].at("activityId").get<std::string>(), ::testing::StartsWith("flow_each-"));
}

TEST(SliceTest, AFanOutBegunInstanceByInstanceGoesOnThatWay) {
  // A run decided before slices existed: its instances were scheduled one
  // by one. The decider keeps doing so rather than starting slices that
  // would run those instances again.
  Flow flow("dev", "flow");
  flow.Activity("each").Generator([](const Context&) { return Numbers(2500); }).Run(
      Sync(WholeContext()));
  History history;
  history.Started();
  history.DecisionTask();
  ASSERT_EQ(ChildStarts(Decisions(flow, history.State(), kRun)).size(), 2u);
  // The same run, as a decider without slices had begun it.
  History before;
  before.Started();
  before.DecisionTask();
  before.DecisionCompleted();
  const std::string first = ActivityInstance(flow.activities()[0].get(), Json{{"generator.i", 0}},
                                             nullptr, 2500)
                                .id();
  const auto scheduled = before.Scheduled(first, "flow_each");
  before.Completed(scheduled, Json{{"r.0", 0}});
  before.DecisionTask();
  const auto decisions = Decisions(flow, before.State(), kRun);
  EXPECT_THAT(ChildStarts(decisions), IsEmpty());
  EXPECT_EQ(ScheduledIds(decisions).size(), 1000u) << "the window, instance by instance";
}

TEST(SliceTest, ASliceOfAnActivityTheFlowDoesNotHaveFailsItsRun) {
  Flow flow("dev", "flow");
  flow.Activity("each").Run(Sync(WholeContext()));
  History history;
  history.Started(Json{{kSliceKey, {{"activity", "flow_gone"}, {"values", Json::array()}}}});
  history.DecisionTask();
  EXPECT_THAT(FailAttributes(Decisions(flow, history.State(), kRun)).value("reason", ""),
              HasSubstr("a slice of activity flow_gone, which version 1.0 of flow does not have"));
  History malformed;
  malformed.Started(Json{{kSliceKey, 3}});
  malformed.DecisionTask();
  EXPECT_THAT(FailAttributes(Decisions(flow, malformed.State(), kRun)).value("reason", ""),
              HasSubstr("malformed garcon.slice"));
}

// ---------------------------------------------------------------------------
// Cancellation: a WorkflowExecutionCancelRequested stops the flow cleanly.

class CancelTest : public ::testing::Test {
 protected:
  CancelTest() {
    auto& a = flow_.Activity("a").Retry(3).Run(Sync(WholeContext()));
    auto& b = flow_.Activity("b").Run(Sync(WholeContext()));
    flow_.Activity("c").Requires({&a, &b}).Run(Sync(WholeContext()));
    history_.Started();
    history_.DecisionTask();
    history_.DecisionCompleted();
    a_ = history_.Scheduled("flow_a-1", "flow_a");
    b_ = history_.Scheduled("flow_b-1", "flow_b");
    history_.ActivityStarted(a_);
  }
  std::vector<Json> DecideNow() {
    history_.DecisionTask();
    auto decisions = Decisions(flow_, history_.State(), kRun);
    history_.DecisionCompleted();
    return decisions;
  }
  void RequestCancel() {
    history_.Add("WorkflowExecutionCancelRequested",
                 {{"externalWorkflowExecution", {{"workflowId", "ops"}, {"runId", "r"}}},
                  {"externalInitiatedEventId", 3}});
  }
  static std::vector<std::string> CanceledIds(const std::vector<Json>& decisions) {
    std::vector<std::string> out;
    for (const auto& d : decisions) {
      if (d.at("decisionType") == "RequestCancelActivityTask") {
        out.push_back(d.at("requestCancelActivityTaskDecisionAttributes").at("activityId"));
      }
    }
    return out;
  }

  Flow flow_{"dev", "flow"};
  History history_;
  std::int64_t a_ = 0;
  std::int64_t b_ = 0;
};

TEST_F(CancelTest, EveryOpenActivityIsAskedToCancelAndNothingIsScheduled) {
  RequestCancel();
  const auto decisions = DecideNow();
  EXPECT_THAT(Types(decisions),
              ElementsAre("RequestCancelActivityTask", "RequestCancelActivityTask"));
  EXPECT_THAT(CanceledIds(decisions), ElementsAre("flow_a-1", "flow_b-1"));
  EXPECT_TRUE(history_.State().cancel_requested());
}

TEST_F(CancelTest, TheRunClosesCanceledOnceNoActivityIsOpen) {
  RequestCancel();
  DecideNow();
  history_.Add("ActivityTaskCancelRequested", {{"activityId", "flow_a-1"}});
  history_.Add("ActivityTaskCancelRequested", {{"activityId", "flow_b-1"}});
  // b was queued: canceled at once; a runs until its worker learns of it.
  history_.Add("ActivityTaskCanceled", {{"scheduledEventId", b_}, {"startedEventId", 0}});
  EXPECT_THAT(DecideNow(), IsEmpty()) << "a is still running: wait for it";
  history_.Add("ActivityTaskCanceled",
               {{"scheduledEventId", a_}, {"startedEventId", a_ + 2}, {"details", "stopped"}});
  const auto decisions = DecideNow();
  ASSERT_THAT(Types(decisions), ElementsAre("CancelWorkflowExecution"));
  EXPECT_EQ(decisions[0]["cancelWorkflowExecutionDecisionAttributes"]["details"],
            "cancellation requested by workflow ops");
}

TEST_F(CancelTest, AFailedActivityIsNotRetriedAndACompletionStillCounts) {
  RequestCancel();
  DecideNow();
  history_.Add("ActivityTaskCancelRequested", {{"activityId", "flow_a-1"}});
  // The request for b raced its completion.
  history_.Add("RequestCancelActivityTaskFailed",
               {{"activityId", "flow_b-1"}, {"cause", "ACTIVITY_ID_UNKNOWN"}});
  history_.Completed(b_, Json{{"b", 1}});
  history_.Failed(a_, "boom");  // within its retries, but the run is canceled
  EXPECT_THAT(Types(DecideNow()), ElementsAre("CancelWorkflowExecution"));
}

TEST_F(CancelTest, ACauseIsTheDetails) {
  history_.Add("WorkflowExecutionCancelRequested", {{"cause", "CHILD_POLICY_APPLIED"}});
  history_.Add("ActivityTaskCanceled", {{"scheduledEventId", b_}, {"startedEventId", 0}});
  history_.Add("ActivityTaskCanceled", {{"scheduledEventId", a_}, {"startedEventId", a_ + 2}});
  const auto decisions = DecideNow();
  ASSERT_THAT(Types(decisions), ElementsAre("CancelWorkflowExecution"));
  EXPECT_EQ(decisions[0]["cancelWorkflowExecutionDecisionAttributes"]["details"],
            "cancellation requested: CHILD_POLICY_APPLIED");
}

TEST(DecideTest, WorkflowInputThatIsNotAnObjectFailsTheWorkflow) {
  Flow flow("dev", "flow");
  flow.Activity("a").Run(Sync(WholeContext()));
  History history;
  history.Started(Json("[1, 2]"));
  history.DecisionTask();
  EXPECT_THAT(FailAttributes(Decisions(flow, history.State(), kRun)).value("reason", ""),
              HasSubstr("JSON object"));
}

TEST(DecideTest, AnExceptionInTheDeciderFailsTheWorkflowWithItsMessage) {
  Flow flow("dev", "flow");
  flow.Activity("a")
      .Generator([](const Context&) -> std::vector<Context> {
        throw std::runtime_error("generator exploded");
      })
      .Run(Sync(WholeContext()));
  History history;
  history.Started();
  history.DecisionTask();
  EXPECT_EQ(FailAttributes(Decisions(flow, history.State(), kRun)).value("reason", ""),
            "generator exploded");
}

TEST(DecideTest, CircularRequirementsFailTheWorkflowInsteadOfHanging) {
  Flow flow("dev", "flow");
  auto& a = flow.Activity("a").Run(Sync(WholeContext()));
  auto& b = flow.Activity("b").Requires({&a}).Run(Sync(WholeContext()));
  a.Requires({&b});
  History history;
  history.Started();
  history.DecisionTask();
  EXPECT_EQ(FailAttributes(Decisions(flow, history.State(), kRun)).value("reason", ""),
            "no activity can start: the requirements of a, b can never be met (circular "
            "requirements)");
}

// ---------------------------------------------------------------------------
// Generators, External activities, sizes.

TEST(DecideTest, WorkflowInputIsTheFirstContext) {
  Flow flow("dev", "flow");
  flow.Activity("a").Run(Sync(Task([](ActivityExecution&, int) {}).Fill("n")));
  History history;
  history.Started(Json{{"n", 5}, {"unused", "u"}});
  history.DecisionTask();
  const auto decisions = Decisions(flow, history.State(), kRun);
  EXPECT_EQ(Json::parse(ScheduleAttributes(decisions, "flow_a-1").at("input").get<std::string>()),
            (Json{{"n", 5},
                  {"execution.domain", "dev"},
                  {"execution.workflow_id", "wf-1"},
                  {"execution.run_id", "run-1"}}));
}

TEST(DecideTest, GeneratorInstancesAreScheduledWithPessimisticScheduleToStart) {
  Flow flow("dev", "flow");
  flow.Activity("a")
      .ScheduleToStart(100)
      .Generator([](const Context&) {
        return std::vector<Context>{{{"i", 0}, {"d", 0}}, {{"i", 1}, {"d", 0}}};
      })
      .Run(Sync(Task([](ActivityExecution&, int) {}).Fill("i").Timeout(30)));
  History history;
  history.Started();
  history.DecisionTask();
  const auto decisions = Decisions(flow, history.State(), kRun);
  ASSERT_EQ(decisions.size(), 2u);
  // sha1 of "'d':'0';'i':'0';", checked with `printf "'d':'0';'i':'0';" | sha1sum`.
  const Json& first =
      ScheduleAttributes(decisions, "flow_a-556ecdd6396db6eb2d02bab8ffc05c75488da20a");
  EXPECT_EQ(first.at("startToCloseTimeout"), "30");
  EXPECT_EQ(first.at("scheduleToStartTimeout"), "200");
  EXPECT_EQ(first.at("scheduleToCloseTimeout"), "230");
  EXPECT_EQ(Json::parse(first.at("input").get<std::string>()).at("i"), 0);
}

TEST(DecideTest, AnEmptyRunnerHasNoStartToCloseOrHeartbeatLimit) {
  Flow flow("dev", "flow");
  flow.Activity("empty");
  History history;
  history.Started();
  history.DecisionTask();
  const auto decisions = Decisions(flow, history.State(), kRun);
  const Json& a = ScheduleAttributes(decisions, "flow_empty-1");
  EXPECT_EQ(a.at("startToCloseTimeout"), "NONE");
  EXPECT_EQ(a.at("heartbeatTimeout"), "NONE");
  EXPECT_EQ(a.at("scheduleToStartTimeout"), "600");
  EXPECT_EQ(a.at("scheduleToCloseTimeout"), "600");
  EXPECT_EQ(Json::parse(a.at("input").get<std::string>()), (Json{{"execution.domain", "dev"},
                                                                 {"execution.workflow_id", "wf-1"},
                                                                 {"execution.run_id", "run-1"}}));
}

TEST(DecideTest, AGeneratorWithZeroInstancesCountsAsComplete) {
  Flow flow("dev", "flow");
  auto& none = flow.Activity("none")
                   .Generator([](const Context&) { return std::vector<Context>{}; })
                   .Run(Sync(WholeContext()));
  flow.Activity("after").Requires({&none}).Run(Sync(WholeContext()));
  History history;
  history.Started(Json{{"start", 1}});
  history.DecisionTask();
  EXPECT_THAT(ScheduledIds(Decisions(flow, history.State(), kRun)), ElementsAre("flow_after-1"));
  history.DecisionCompleted();
  const auto s = history.Scheduled("flow_after-1", "flow_after");
  history.ActivityStarted(s);
  history.Completed(s, Json{{"after", true}});
  history.DecisionTask();
  EXPECT_EQ(CompletedResult(Decisions(flow, history.State(), kRun)),
            (Json{{"start", 1}, {"after", true}}));
}

TEST(DecideTest, OnlyEmptyGeneratorsCompleteAtOnce) {
  Flow flow("dev", "flow");
  flow.Activity("none")
      .Generator([](const Context&) { return std::vector<Context>{}; })
      .Run(Sync(WholeContext()));
  History history;
  history.Started(Json{{"x", 1}});
  history.DecisionTask();
  EXPECT_EQ(CompletedResult(Decisions(flow, history.State(), kRun)), (Json{{"x", 1}}));
}

TEST(DecideTest, ExternalActivitiesGetTheirTimeoutsAndTheWholeContext) {
  Flow flow("dev", "flow");
  auto& first = flow.Activity("first").Run(Sync(WholeContext()));
  flow.Activity("external").Requires({&first}).External(3600, 60);
  History history;
  history.Started(Json{{"in", "put"}});
  history.DecisionTask();
  history.DecisionCompleted();
  const auto s = history.Scheduled("flow_first-1", "flow_first");
  history.ActivityStarted(s);
  history.Completed(s, Json{{"first", 1}});
  history.DecisionTask();
  const auto decisions = Decisions(flow, history.State(), kRun);
  ASSERT_THAT(ScheduledIds(decisions), ElementsAre("flow_external-1"));
  const Json& a = ScheduleAttributes(decisions, "flow_external-1");
  EXPECT_EQ(a.at("activityType"), (Json{{"name", "flow_external"}, {"version", "1.0"}}));
  EXPECT_EQ(a.at("taskList"), (Json{{"name", "flow_external@1.0"}}));
  EXPECT_EQ(a.at("startToCloseTimeout"), "3600");
  EXPECT_EQ(a.at("heartbeatTimeout"), "60");
  EXPECT_EQ(a.at("scheduleToStartTimeout"), "600");
  EXPECT_EQ(a.at("scheduleToCloseTimeout"), "4200");
  EXPECT_EQ(Json::parse(a.at("input").get<std::string>()), (Json{{"in", "put"}, {"first", 1}}));
}

// Versions are kept apart by task lists that carry the version; a run
// started on a private list (`run`) keeps its activities on private lists,
// except External ones, whose workers run elsewhere.
TEST(VersionTest, APrivateRunSchedulesOnPrivateListsButExternalOnTheSharedOne) {
  Flow flow("dev", "flow");
  flow.Activity("mine").Run(Sync(WholeContext()));
  flow.Activity("theirs").External(60);
  History history;
  history.Started(Json::object(), "flow@1.0~run-1234");
  history.DecisionTask();
  const auto decisions = Decisions(flow, history.State(), kRun);
  ASSERT_THAT(ScheduledIds(decisions), ElementsAre("flow_mine-1", "flow_theirs-1"));
  EXPECT_EQ(ScheduleAttributes(decisions, "flow_mine-1").at("taskList"),
            (Json{{"name", "flow_mine@1.0~run-1234"}}));
  EXPECT_EQ(ScheduleAttributes(decisions, "flow_theirs-1").at("taskList"),
            (Json{{"name", "flow_theirs@1.0"}}));
}

TEST(VersionTest, ARunOfAnotherVersionIsFailedWithAReasonNamingBoth) {
  Flow flow("dev", "flow", "1.0");
  flow.Activity("a").Run(Sync(WholeContext()));
  History history;
  history.Started(Json::object(), "flow@1.0", "2.0");
  history.DecisionTask();
  const auto decisions = Decisions(flow, history.State(), kRun);
  ASSERT_EQ(decisions.size(), 1u);
  EXPECT_EQ(decisions[0].at("decisionType"), "FailWorkflowExecution");
  const std::string reason =
      decisions[0].at("failWorkflowExecutionDecisionAttributes").at("reason");
  EXPECT_THAT(reason, HasSubstr("version 2.0"));
  EXPECT_THAT(reason, HasSubstr("served by version 1.0"));
}

TEST(DecideTest, AnInputOver32768CharactersIsScheduledForThePayloadStore) {
  // The decider's service wrapper stores it as a payload (PayloadTest).
  Flow flow("dev", "flow");
  flow.Activity("whole").Run(Sync(WholeContext()));
  History history;
  history.Started(Json{{"big", std::string(40000, 'b')}, {"small", 1}});
  history.DecisionTask();
  EXPECT_THAT(ScheduledIds(Decisions(flow, history.State(), kRun)), ElementsAre("flow_whole-1"));
}

TEST(DecideTest, AnInputPastTheLargestPayloadFailsTheWorkflow) {
  Flow flow("dev", "flow");
  flow.Activity("whole").Run(Sync(WholeContext()));
  History history;
  history.Started(Json{{"big", std::string(kMaxPayloadBytes + 1, 'b')}, {"small", 1}});
  history.DecisionTask();
  const auto decisions = Decisions(flow, history.State(), kRun);
  const std::string reason = FailAttributes(decisions).value("reason", "");
  EXPECT_THAT(reason, HasSubstr("input of activity flow_whole-1"));
  EXPECT_THAT(reason, HasSubstr(std::to_string(kMaxPayloadBytes)));
  EXPECT_LE(reason.size(), 256u);
  EXPECT_THAT(ScheduledIds(decisions), IsEmpty());
}

TEST(DecideTest, TrimmedInputOfABigContextIsScheduled) {
  Flow flow("dev", "flow");
  flow.Activity("trimmed").Run(Sync(Task([](ActivityExecution&, int) {}).Fill("small")));
  History history;
  history.Started(Json{{"big", std::string(40000, 'b')}, {"small", 1}});
  history.DecisionTask();
  EXPECT_THAT(ScheduledIds(Decisions(flow, history.State(), kRun)), ElementsAre("flow_trimmed-1"));
}

TEST(DecideTest, SizesCountCharactersNotBytes) {
  Flow flow("dev", "flow");
  flow.Activity("whole").Run(Sync(WholeContext()));
  History history;
  std::string accents;
  for (int i = 0; i < 20000; ++i) accents += "\xc3\xa9";  // 40000 bytes, 20000 characters
  history.Started(Json{{"text", accents}});
  history.DecisionTask();
  EXPECT_THAT(ScheduledIds(Decisions(flow, history.State(), kRun)), ElementsAre("flow_whole-1"));
}

TEST(DecideTest, AResultPastTheLargestPayloadFailsInsteadOfCompleting) {
  Flow flow("dev", "flow");
  flow.Activity("a").Run(Sync(WholeContext()));
  History history;
  history.Started();
  history.DecisionTask();
  history.DecisionCompleted();
  const auto s = history.Scheduled("flow_a-1", "flow_a");
  history.ActivityStarted(s);
  history.Completed(s, Json{{"huge", std::string(kMaxPayloadBytes, 'h')}});
  history.DecisionTask();
  const std::string reason =
      FailAttributes(Decisions(flow, history.State(), kRun)).value("reason", "");
  EXPECT_THAT(reason, HasSubstr("workflow result"));
  EXPECT_THAT(reason, HasSubstr(std::to_string(kMaxPayloadBytes)));
}

// ---------------------------------------------------------------------------
// Custom deciders.

class CustomDeciderTest : public ::testing::Test {
 protected:
  CustomDeciderTest() {
    one_ = &flow_.Activity("one").Run(Sync(WholeContext()));
    two_ = &flow_.Activity("two").Retry(1).Run(Sync(WholeContext()));
    history_.Started(Json{{"user", "ann"}});
    history_.DecisionTask();
  }

  std::vector<Json> DecideNow() { return Decisions(flow_, history_.State(), kRun); }

  // Applies the decisions as SWF would record them: the decision task
  // completes, each scheduled activity gets its event. Returns the scheduled
  // event id of each, in order.
  std::vector<std::int64_t> Record(const std::vector<Json>& decisions) {
    history_.DecisionCompleted();
    std::vector<std::int64_t> ids;
    for (const auto& d : decisions) {
      const Json& a = d.at("scheduleActivityTaskDecisionAttributes");
      ids.push_back(history_.Scheduled(a.at("activityId"), a.at("activityType").at("name")));
    }
    return ids;
  }

  Flow flow_{"dev", "flow"};
  const Activity* one_ = nullptr;
  const Activity* two_ = nullptr;
  History history_;
};

TEST_F(CustomDeciderTest, NotScheduledIsScheduledScheduledIsNotAgainCompletedIsReady) {
  std::vector<ActivityState> seen;
  Context seen_input;
  flow_.Decider([&](Schedule& schedule, const Context& input) {
    seen_input = input;
    seen.push_back(schedule("first", *one_));
  });

  // Not yet scheduled: scheduled, not ready.
  auto decisions = DecideNow();
  EXPECT_EQ(seen_input, (Context{{"user", "ann"}}));
  ASSERT_THAT(ScheduledIds(decisions), ElementsAre("flow_one-1-first"));
  EXPECT_EQ(
      Json::parse(ScheduleAttributes(decisions, "flow_one-1-first").at("input").get<std::string>()),
      (Json{{"user", "ann"}}));
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_FALSE(seen.back().ready());
  const auto s = Record(decisions).at(0);

  // Scheduled: not again, not ready.
  history_.DecisionTask();
  EXPECT_THAT(DecideNow(), IsEmpty());
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_FALSE(seen.back().ready());
  EXPECT_THROW(seen.back().result(), NotReady);
  EXPECT_THROW(seen.back().Wait(), NotReady);

  // Completed: ready with its result; everything complete: the workflow
  // completes with the context.
  history_.DecisionCompleted();
  history_.ActivityStarted(s);
  history_.Completed(s, Json{{"first", "result"}});
  history_.DecisionTask();
  decisions = DecideNow();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_TRUE(seen.back().ready());
  EXPECT_EQ(seen.back().result(), (Context{{"first", "result"}}));
  EXPECT_NO_THROW(seen.back().Wait());
  EXPECT_EQ(CompletedResult(decisions), (Json{{"user", "ann"}, {"first", "result"}}));
}

TEST_F(CustomDeciderTest, ItReceivesTheWorkflowInputNotTheCurrentContext) {
  std::vector<Context> inputs;
  flow_.Decider([&](Schedule& schedule, const Context& input) {
    inputs.push_back(input);
    schedule("a", *one_).Wait();
    schedule("b", *two_);
  });
  const auto s = Record(DecideNow()).at(0);
  history_.ActivityStarted(s);
  history_.Completed(s, Json{{"a", 1}});
  history_.DecisionTask();
  ASSERT_THAT(ScheduledIds(DecideNow()), ElementsAre("flow_two-1-b"));
  EXPECT_THAT(inputs, ElementsAre(Context{{"user", "ann"}}, Context{{"user", "ann"}}));
}

TEST_F(CustomDeciderTest, AGeneratorWithZeroInstancesIsReady) {
  auto& none = flow_.Activity("none")
                   .Generator([](const Context&) { return std::vector<Context>{}; })
                   .Run(Sync(WholeContext()));
  std::optional<ActivityState> state;
  flow_.Decider([&](Schedule& schedule, const Context&) { state = schedule("n", none); });
  EXPECT_EQ(CompletedResult(DecideNow()), (Json{{"user", "ann"}}));
  ASSERT_TRUE(state.has_value());
  EXPECT_TRUE(state->ready());
  EXPECT_EQ(state->result(), Context::object());
}

TEST_F(CustomDeciderTest, ResultOfANotReadyStateStopsQuietly) {
  bool reached = false;
  flow_.Decider([&](Schedule& schedule, const Context&) {
    auto first = schedule("a", *one_);
    schedule("b", *two_);
    const Context result = first.result();  // not ready: stops here
    reached = true;
    schedule("c", *one_, {}, result);
  });
  const auto decisions = DecideNow();
  EXPECT_THAT(ScheduledIds(decisions), ElementsAre("flow_one-1-a", "flow_two-1-b"));
  EXPECT_FALSE(reached);
}

TEST_F(CustomDeciderTest, AfterAndInputChainActivities) {
  flow_.Decider([&](Schedule& schedule, const Context&) {
    auto first = schedule("a", *one_);
    schedule("b", *two_, {first}, {{"from_a", first.ready() ? first.result() : Json()}});
  });
  auto decisions = DecideNow();
  ASSERT_THAT(ScheduledIds(decisions), ElementsAre("flow_one-1-a"))
      << "b waits for a: Schedule throws NotReady";
  const auto s = Record(decisions).at(0);
  history_.ActivityStarted(s);
  history_.Completed(s, Json{{"a", 1}});
  history_.DecisionTask();
  decisions = DecideNow();
  ASSERT_THAT(ScheduledIds(decisions), ElementsAre("flow_two-1-b"));
  EXPECT_EQ(
      Json::parse(ScheduleAttributes(decisions, "flow_two-1-b").at("input").get<std::string>()),
      (Json{{"user", "ann"}, {"a", 1}, {"from_a", {{"a", 1}}}}));
}

TEST_F(CustomDeciderTest, FailedIsRescheduledWithinRetriesThenFailsTheWorkflow) {
  flow_.Decider([&](Schedule& schedule, const Context&) { schedule("x", *two_); });
  auto s = Record(DecideNow()).at(0);
  history_.ActivityStarted(s);
  history_.Failed(s, "first try failed");
  history_.DecisionTask();
  auto decisions = DecideNow();
  ASSERT_THAT(ScheduledIds(decisions), ElementsAre("flow_two-1-x"));
  s = Record(decisions).at(0);
  history_.ActivityStarted(s);
  history_.Failed(s, "second try failed");
  history_.DecisionTask();
  EXPECT_EQ(FailAttributes(DecideNow()).value("reason", ""), "two attempt 2 of 2: second try failed");
}

TEST_F(CustomDeciderTest, AnExceptionFailsTheWorkflowWithItsMessage) {
  flow_.Decider([&](Schedule& schedule, const Context&) {
    schedule("a", *one_);
    throw std::runtime_error("custom decider bug");
  });
  EXPECT_EQ(FailAttributes(DecideNow()).value("reason", ""), "custom decider bug");
}

TEST_F(CustomDeciderTest, ANonStandardExceptionFailsTheWorkflow) {
  flow_.Decider([&](Schedule&, const Context&) { throw 42; });
  EXPECT_THAT(FailAttributes(DecideNow()).value("reason", ""), HasSubstr("unknown exception"));
}

TEST_F(CustomDeciderTest, ADeciderSchedulingNothingCompletes) {
  flow_.Decider([](Schedule&, const Context&) {});
  EXPECT_EQ(CompletedResult(DecideNow()), (Json{{"user", "ann"}}));
}

// ---------------------------------------------------------------------------
// The decision-task loop and registration, against a scripted service.

class FakeService : public swf::Service {
 public:
  Result<Json> Call(std::string_view operation, const Json& request) override {
    std::lock_guard lock(mu_);
    calls.emplace_back(std::string(operation), request);
    if (operation == "PollForDecisionTask") {
      if (polls.empty()) return Status(Fault::kInternalFailure, "unexpected poll");
      Result<Json> next = std::move(polls.front());
      polls.pop_front();
      return next;
    }
    auto it = faults.find(std::string(operation));
    if (it != faults.end()) return it->second;
    return Json::object();
  }

  std::vector<Json> Requests(const std::string& operation) const {
    std::vector<Json> out;
    for (const auto& [op, request] : calls) {
      if (op == operation) out.push_back(request);
    }
    return out;
  }

  std::mutex mu_;
  std::deque<Result<Json>> polls;
  std::map<std::string, Status> faults;
  std::vector<std::pair<std::string, Json>> calls;
};

// A decision task page holding `events` newest first.
Json Page(const std::vector<Json>& events, std::size_t from, std::size_t to,
          const std::string& next_page_token) {
  Json page = {{"taskToken", "token-" + std::to_string(to)},
               {"startedEventId", to},
               {"workflowExecution", {{"workflowId", "wf-1"}, {"runId", "run-1"}}},
               {"workflowType", {{"name", "flow"}, {"version", "1.0"}}},
               {"events", Json::array()}};
  for (std::size_t i = to; i >= from; --i) page["events"].push_back(events[i - 1]);
  if (!next_page_token.empty()) page["nextPageToken"] = next_page_token;
  return page;
}

TEST_F(FourActivityFlowTest, DeciderFollowsPagesAndReadsOnlyNewEvents) {
  FakeService service;
  Decider decider(flow_, service, DeciderOptions{"test-decider"});
  const auto& events = history_.events();

  // First task: events 3..2 then 1 on a second page.
  service.polls.push_back(Page(events, 2, 3, "page-2"));
  service.polls.push_back(Page(events, 1, 1, ""));
  Result<bool> handled = decider.PollOnce();
  ASSERT_TRUE(handled.ok()) << handled.status().ToString();
  EXPECT_TRUE(*handled);
  auto polls = service.Requests("PollForDecisionTask");
  ASSERT_EQ(polls.size(), 2u);
  EXPECT_EQ(polls[0].at("domain"), "dev");
  EXPECT_EQ(polls[0].at("taskList"), (Json{{"name", "flow@1.0"}}));
  EXPECT_EQ(polls[0].at("identity"), "test-decider");
  EXPECT_EQ(polls[0].at("reverseOrder"), true);
  EXPECT_FALSE(polls[0].contains("nextPageToken"));
  EXPECT_EQ(polls[1].at("nextPageToken"), "page-2");
  auto responses = service.Requests("RespondDecisionTaskCompleted");
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].at("taskToken"), "token-3");
  // What Decide says, the graph marker of the first decision included.
  EXPECT_EQ(responses[0].at("decisions"), Json(::garcon::Decide(flow_, history_.State(3), kRun)));

  // Second task for the same run: the page reaches the known events, so the
  // next page is never asked for (the service would answer with an error).
  service.polls.push_back(Page(events, 3, 9, "older-events"));
  handled = decider.PollOnce();
  ASSERT_TRUE(handled.ok()) << handled.status().ToString();
  EXPECT_EQ(service.Requests("PollForDecisionTask").size(), 3u);
  responses = service.Requests("RespondDecisionTaskCompleted");
  ASSERT_EQ(responses.size(), 2u);
  EXPECT_EQ(responses[1].at("taskToken"), "token-9");
  EXPECT_THAT(ScheduledIds(responses[1].at("decisions").get<std::vector<Json>>()),
              ElementsAre("flow_activity_2-1", "flow_activity_3-1"));

  // Last task: completes.
  service.polls.push_back(Page(events, 9, 27, ""));
  ASSERT_TRUE(decider.PollOnce().ok());
  responses = service.Requests("RespondDecisionTaskCompleted");
  ASSERT_EQ(responses.size(), 3u);
  EXPECT_EQ(responses[2].at("decisions"), Json(DecideAfter(27)));
}

TEST_F(FourActivityFlowTest, DeciderWithoutCacheReplaysTheWholeHistory) {
  FakeService service;
  Decider decider(flow_, service, DeciderOptions{"d", 0});
  service.polls.push_back(Page(history_.events(), 1, 3, ""));
  ASSERT_TRUE(decider.PollOnce().ok());
  service.polls.push_back(Page(history_.events(), 1, 21, ""));
  ASSERT_TRUE(decider.PollOnce().ok());
  const auto responses = service.Requests("RespondDecisionTaskCompleted");
  ASSERT_EQ(responses.size(), 2u);
  EXPECT_EQ(responses[1].at("decisions"), Json(DecideAfter(21)));
}

TEST_F(FourActivityFlowTest, DeciderCacheDropsTheLeastRecentlyUsedRun) {
  FakeService service;
  Decider decider(flow_, service, DeciderOptions{"d", 1});
  const auto& events = history_.events();
  auto for_run = [](Json page, const std::string& run_id) {
    page["workflowExecution"]["runId"] = run_id;
    return page;
  };
  service.polls.push_back(for_run(Page(events, 1, 3, ""), "run-1"));
  ASSERT_TRUE(decider.PollOnce().ok());
  service.polls.push_back(for_run(Page(events, 1, 3, ""), "run-2"));  // drops run-1
  ASSERT_TRUE(decider.PollOnce().ok());

  // run-2 is cached: its next task reads no older page.
  service.polls.push_back(for_run(Page(events, 3, 9, "older-events"), "run-2"));
  ASSERT_TRUE(decider.PollOnce().ok());
  EXPECT_EQ(service.Requests("PollForDecisionTask").size(), 3u);

  // run-1 was dropped: its next task is replayed from the whole history.
  service.polls.push_back(for_run(Page(events, 3, 9, "older-events"), "run-1"));
  service.polls.push_back(for_run(Page(events, 1, 2, ""), "run-1"));
  ASSERT_TRUE(decider.PollOnce().ok());
  const auto polls = service.Requests("PollForDecisionTask");
  ASSERT_EQ(polls.size(), 5u);
  EXPECT_EQ(polls[4].at("nextPageToken"), "older-events");
  const auto responses = service.Requests("RespondDecisionTaskCompleted");
  ASSERT_EQ(responses.size(), 4u);
  EXPECT_EQ(responses[3].at("decisions"), Json(DecideAfter(9)));
}

TEST_F(FourActivityFlowTest, DeciderEmptyPollAndErrors) {
  FakeService service;
  Decider decider(flow_, service);
  service.polls.push_back(Json{{"startedEventId", 0}});
  Result<bool> handled = decider.PollOnce();
  ASSERT_TRUE(handled.ok());
  EXPECT_FALSE(*handled);

  service.polls.push_back(Status(Fault::kThrottling, "Rate exceeded"));
  handled = decider.PollOnce();
  ASSERT_FALSE(handled.ok());
  EXPECT_EQ(handled.status(), Status(Fault::kThrottling, "Rate exceeded"));

  service.polls.push_back(Page(history_.events(), 1, 3, ""));
  service.faults["RespondDecisionTaskCompleted"] =
      Status(Fault::kUnknownResource, "Unknown execution");
  handled = decider.PollOnce();
  ASSERT_FALSE(handled.ok());
  EXPECT_EQ(handled.fault(), Fault::kUnknownResource);
  EXPECT_THAT(service.Requests("RespondDecisionTaskCompleted"), ::testing::SizeIs(1));
}

TEST(RegisterTest, RegistersEverythingAndAlreadyExistsIsNotAnError) {
  Flow flow("dev", "flow", "2.0");
  flow.RetentionDays(30);
  flow.Activity("a");
  flow.Activity("b").External(10);
  FakeService service;
  service.faults["RegisterDomain"] = Status(Fault::kDomainAlreadyExists, "dev");
  service.faults["RegisterActivityType"] = Status(Fault::kTypeAlreadyExists, "exists");
  EXPECT_TRUE(Register(flow, service).ok());
  std::vector<std::string> operations;
  for (const auto& [op, request] : service.calls) operations.push_back(op);
  EXPECT_THAT(operations, ElementsAre("RegisterDomain", "RegisterWorkflowType",
                                      "RegisterActivityType", "RegisterActivityType"));
  EXPECT_EQ(service.calls[0].second.at("workflowExecutionRetentionPeriodInDays"), "30");
  EXPECT_EQ(service.calls[1].second.at("name"), "flow");
  EXPECT_EQ(service.calls[1].second.at("version"), "2.0");
  EXPECT_EQ(service.calls[2].second.at("name"), "flow_a");
  EXPECT_EQ(service.calls[1].second.at("defaultTaskList"), (Json{{"name", "flow@2.0"}}));
  EXPECT_EQ(service.calls[2].second.at("defaultTaskList"), (Json{{"name", "flow_a@2.0"}}));
  EXPECT_EQ(service.calls[3].second.at("name"), "flow_b");

  service.faults["RegisterWorkflowType"] = Status(Fault::kAccessDenied, "no");
  EXPECT_EQ(Register(flow, service), Status(Fault::kAccessDenied, "no"));
}

}  // namespace
}  // namespace garcon

namespace garcon {
namespace {

TEST(GraphTest, TheFirstDecisionRecordsTheFlowsGraphOnce) {
  Flow child("dev", "packing");
  Flow flow("dev", "flow", "2.0");
  RetryPolicy backoff;
  backoff.retries = 2;
  backoff.initial_interval = std::chrono::seconds(30);
  auto& a = flow.Activity("a").Run(Sync(WholeContext())).Retry(backoff);
  auto& b = flow.Activity("b")
                .Requires({&a})
                .Generator([](const Context&) { return std::vector<Context>{}; })
                .MaxConcurrent(5)
                .AllowFailures(0.5)
                .Run(Child(child));
  flow.Activity("c").Requires({&a, &b}).AwaitSignal("go").After(std::chrono::seconds(60)).External(10);
  History history;
  history.Started(Json::object(), "flow@2.0", "2.0");
  history.DecisionTask();
  const auto decisions = ::garcon::Decide(flow, history.State(), kRun);
  ASSERT_GE(decisions.size(), 2u) << Json(decisions).dump();
  ASSERT_EQ(decisions[0].at("decisionType"), "RecordMarker");
  const Json& marker = decisions[0].at("recordMarkerDecisionAttributes");
  EXPECT_EQ(marker.at("markerName"), kGraphMarker);
  const Json graph = Json::parse(marker.at("details").get<std::string>());
  EXPECT_EQ(graph, flow.Graph());
  EXPECT_EQ(graph["version"], "2.0");
  EXPECT_EQ(graph["activities"][0]["backoff"], 30);
  EXPECT_EQ(graph["activities"][1]["runner"], "child");
  EXPECT_EQ(graph["activities"][1]["child"], "packing@1.0");
  EXPECT_EQ(graph["activities"][1]["maxConcurrent"], 5);
  EXPECT_EQ(graph["activities"][2]["requires"], (Json{"a", "b"}));
  EXPECT_EQ(graph["activities"][2]["signal"], "go");

  // Drawn without the flow's code.
  const std::string mermaid = GraphMermaid(graph);
  EXPECT_THAT(mermaid, HasSubstr("flowchart LR"));
  EXPECT_THAT(mermaid, HasSubstr("a_a --> a_c"));
  EXPECT_THAT(mermaid, HasSubstr("child packing@1.0"));
  const std::string dot = GraphDot(graph);
  EXPECT_THAT(dot, HasSubstr("a_b -> a_c;"));
  EXPECT_THAT(dot, HasSubstr("awaits go"));

  // Recorded once: later decisions do not repeat it.
  history.DecisionCompleted();
  history.Add("MarkerRecorded", {{"markerName", kGraphMarker}, {"details", marker.at("details")}});
  history.DecisionTask();
  for (const Json& d : ::garcon::Decide(flow, history.State(), kRun)) {
    EXPECT_NE(d.at("decisionType"), "RecordMarker");
  }
}

}  // namespace
}  // namespace garcon
