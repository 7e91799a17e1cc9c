// Long polls: wake-up by a task, timeout with the empty shape, Cancel,
// Shutdown, waiter order, priorities, and paged decision tasks.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "engine/engine_fixture.h"

namespace garcon::engine::testing {
namespace {

using Polls = EngineFixture;

const Json kEmptyDecision = Json({{"previousStartedEventId", 0}, {"startedEventId", 0}});
const Json kEmptyActivity = Json({{"startedEventId", 0}});

Json DecisionPoll(const std::string& identity = "decider") {
  return {{"domain", "d"}, {"taskList", {{"name", "decisions"}}}, {"identity", identity}};
}
Json ActivityPoll() {
  return {{"domain", "d"}, {"taskList", {{"name", "activities"}}}, {"identity", "worker"}};
}

TEST_F(Polls, WakeUpWhenATaskArrives) {
  RegisterTypes();
  Held poll = Hold("PollForDecisionTask", DecisionPoll());
  EXPECT_FALSE(poll.answered());
  EXPECT_EQ(engine_->GetStats().poll_waiters, 1u);
  const std::string run_id = Start("w");
  // Answered by the time StartWorkflowExecution returned.
  ASSERT_TRUE(poll.answered());
  ASSERT_TRUE(swf::HasTask(poll.json()));
  EXPECT_EQ(poll.json()["startedEventId"], 3);
  EXPECT_EQ(poll.json()["workflowExecution"]["runId"], run_id);
  EXPECT_EQ(Attributes("w", run_id, 3), Json({{"identity", "decider"}, {"scheduledEventId", 2}}));
  EXPECT_EQ(engine_->GetStats().poll_waiters, 0u);
  // The poll timeout was withdrawn with it.
  clock_->AdvanceSeconds(60);
  EXPECT_EQ(poll.json()["startedEventId"], 3);
}

TEST_F(Polls, BlockingCallWakesUpOnAnotherThread) {
  RegisterTypes();
  Start("w");
  std::optional<Result<Json>> result;
  std::thread worker([&] { result.emplace(engine_->Call("PollForActivityTask", ActivityPoll())); });
  while (engine_->GetStats().poll_waiters == 0) std::this_thread::yield();
  ASSERT_TRUE(Decide(PollDecision(), ScheduleActivity("a", {{"input", "x"}})).ok());
  worker.join();
  ASSERT_TRUE(result.has_value() && result->ok());
  EXPECT_EQ((**result)["activityId"], "a");
  EXPECT_EQ((**result)["input"], "x");
}

TEST_F(Polls, TimeoutAnswersTheEmptyShape) {
  RegisterTypes();
  Held decision = Hold("PollForDecisionTask", DecisionPoll());
  Held activity = Hold("PollForActivityTask", ActivityPoll());
  clock_->AdvanceSeconds(59.9);
  EXPECT_FALSE(decision.answered());
  EXPECT_FALSE(activity.answered());
  clock_->AdvanceSeconds(0.1);
  ASSERT_TRUE(decision.answered());
  ASSERT_TRUE(activity.answered());
  EXPECT_EQ(decision.json(), kEmptyDecision);
  EXPECT_EQ(activity.json(), kEmptyActivity);
  EXPECT_FALSE(swf::HasTask(decision.json()));
  EXPECT_EQ(engine_->GetStats().poll_waiters, 0u);
}

TEST_F(Polls, BlockingCallTimesOutWhenTheFakeClockMoves) {
  RegisterTypes();
  std::optional<Result<Json>> result;
  std::thread decider(
      [&] { result.emplace(engine_->Call("PollForDecisionTask", DecisionPoll())); });
  while (engine_->GetStats().poll_waiters == 0) std::this_thread::yield();
  clock_->AdvanceSeconds(60);
  decider.join();
  ASSERT_TRUE(result.has_value() && result->ok());
  EXPECT_EQ(**result, kEmptyDecision);
}

TEST_F(Polls, PollTimeoutOption) {
  EngineOptions options;
  options.clock = clock_;
  options.poll_timeout = std::chrono::seconds(5);
  engine_ = std::make_unique<Engine>(options);
  RegisterTypes();
  Held poll = Hold("PollForActivityTask", ActivityPoll());
  clock_->AdvanceSeconds(5);
  ASSERT_TRUE(poll.answered());
  EXPECT_EQ(poll.json(), kEmptyActivity);
}

TEST_F(Polls, CancelWithdrawsAWaitingPoll) {
  RegisterTypes();
  Held poll = Hold("PollForDecisionTask", DecisionPoll());
  engine_->Cancel(poll.id);
  ASSERT_TRUE(poll.answered());
  EXPECT_EQ(poll.json(), kEmptyDecision);
  const std::string run_id = Start("w");
  // Not handed to the cancelled poll: still queued.
  EXPECT_EQ(poll.json(), kEmptyDecision);
  EXPECT_EQ(Ok("CountPendingDecisionTasks",
               {{"domain", kDomain}, {"taskList", {{"name", kDecisionList}}}}),
            Json({{"count", 1}, {"truncated", false}}));
  EXPECT_EQ(History("w", run_id).size(), 2u);
  engine_->Cancel(poll.id);  // no effect once finished
  engine_->Cancel(12345);
}

TEST_F(Polls, ShutdownAnswersWaitersAndNewPolls) {
  RegisterTypes();
  Held first = Hold("PollForDecisionTask", DecisionPoll());
  Held second = Hold("PollForActivityTask", ActivityPoll());
  engine_->Shutdown();
  ASSERT_TRUE(first.answered() && second.answered());
  EXPECT_EQ(first.json(), kEmptyDecision);
  EXPECT_EQ(second.json(), kEmptyActivity);
  // Other calls keep working; polls answer empty at once, even with a task.
  Start("w");
  EXPECT_EQ(Now("PollForDecisionTask", DecisionPoll()), kEmptyDecision);
  EXPECT_EQ(engine_->GetStats().queued_decision_tasks, 1u);
}

TEST_F(Polls, DestructionAnswersHeldPolls) {
  RegisterTypes();
  Held poll = Hold("PollForActivityTask", ActivityPoll());
  engine_.reset();
  ASSERT_TRUE(poll.answered());
  EXPECT_EQ(poll.json(), kEmptyActivity);
}

TEST_F(Polls, OldestWaiterFirst) {
  RegisterTypes();
  Held first = Hold("PollForDecisionTask", DecisionPoll("one"));
  Held second = Hold("PollForDecisionTask", DecisionPoll("two"));
  const std::string run_id = Start("w");
  ASSERT_TRUE(first.answered());
  EXPECT_FALSE(second.answered());
  EXPECT_EQ(Attributes("w", run_id, 3)["identity"], "one");
  Start("w2");
  ASSERT_TRUE(second.answered());
  EXPECT_EQ(second.json()["workflowExecution"]["workflowId"], "w2");
}

TEST_F(Polls, ActivityTasksByPriorityThenFifo) {
  RegisterTypes();
  Start("w");
  ASSERT_TRUE(Decide(PollDecision(),
                     {ScheduleActivity("p1", {{"taskPriority", "1"}}),
                      ScheduleActivity("p10a", {{"taskPriority", "10"}}),
                      ScheduleActivity("p5", {{"taskPriority", "5"}}),
                      ScheduleActivity("p10b", {{"taskPriority", "10"}}), ScheduleActivity("none"),
                      ScheduleActivity("neg", {{"taskPriority", "-3"}})})
                  .ok());
  std::vector<std::string> order;
  for (int i = 0; i < 6; ++i) order.push_back(PollActivity()["activityId"]);
  EXPECT_EQ(order, (std::vector<std::string>{"p10a", "p10b", "p5", "p1", "none", "neg"}));
  Ok("SignalWorkflowExecution", {{"domain", kDomain}, {"workflowId", "w"}, {"signalName", "s"}});
  EXPECT_EQ(Decide(PollDecision(), ScheduleActivity("bad", {{"taskPriority", "high"}})).fault(),
            Fault::kValidation);
}

TEST_F(Polls, ActivityPriorityDefaultsFromType) {
  RegisterTypes();
  Ok("RegisterActivityType", {{"domain", kDomain},
                              {"name", "urgent"},
                              {"version", "1"},
                              {"defaultTaskPriority", "7"},
                              {"defaultTaskList", {{"name", kActivityList}}},
                              {"defaultTaskScheduleToStartTimeout", "NONE"},
                              {"defaultTaskScheduleToCloseTimeout", "NONE"},
                              {"defaultTaskStartToCloseTimeout", "NONE"},
                              {"defaultTaskHeartbeatTimeout", "NONE"}});
  const std::string run_id = Start("w");
  ASSERT_TRUE(Decide(PollDecision(), {ScheduleActivity("plain"),
                                      {{"decisionType", "ScheduleActivityTask"},
                                       {"scheduleActivityTaskDecisionAttributes",
                                        {{"activityType", {{"name", "urgent"}, {"version", "1"}}},
                                         {"activityId", "urgent"}}}}})
                  .ok());
  EXPECT_EQ(Attributes("w", run_id, 6)["taskPriority"], "7");
  EXPECT_EQ(PollActivity()["activityId"], "urgent");
}

TEST_F(Polls, DecisionTasksByPriority) {
  RegisterTypes();
  Start("low", {{"taskPriority", "1"}});
  Start("high", {{"taskPriority", "5"}});
  EXPECT_EQ(PollDecision()["workflowExecution"]["workflowId"], "high");
  EXPECT_EQ(PollDecision()["workflowExecution"]["workflowId"], "low");
}

TEST_F(Polls, DecisionTaskListOverride) {
  RegisterTypes();
  const std::string run_id = Start("w");
  ASSERT_TRUE(Decide(PollDecision(), Json::array(),
                     {{"taskList", {{"name", "sticky"}}}, {"taskListScheduleToStartTimeout", "5"}})
                  .ok());
  EXPECT_EQ(Attributes("w", run_id, 4), Json({{"scheduledEventId", 2},
                                              {"startedEventId", 3},
                                              {"taskList", {{"name", "sticky"}}},
                                              {"taskListScheduleToStartTimeout", "5"}}));
  Ok("SignalWorkflowExecution", {{"domain", kDomain}, {"workflowId", "w"}, {"signalName", "s"}});
  EXPECT_EQ(Attributes("w", run_id, 6), Json({{"taskList", {{"name", "sticky"}}},
                                              {"startToCloseTimeout", "30"},
                                              {"scheduleToStartTimeout", "5"}}));
  EXPECT_EQ(Ok("CountPendingDecisionTasks",
               {{"domain", kDomain}, {"taskList", {{"name", "sticky"}}}})["count"],
            1);
  clock_->AdvanceSeconds(5);
  // Not started in time: timed out, and the override is reverted.
  EXPECT_EQ(
      Attributes("w", run_id, 7),
      Json({{"timeoutType", "SCHEDULE_TO_START"}, {"scheduledEventId", 6}, {"startedEventId", 0}}));
  EXPECT_EQ(Attributes("w", run_id, 8),
            Json({{"taskList", {{"name", kDecisionList}}}, {"startToCloseTimeout", "30"}}));
  EXPECT_EQ(Ok("CountPendingDecisionTasks",
               {{"domain", kDomain}, {"taskList", {{"name", "sticky"}}}})["count"],
            0);
  // A permanent override.
  ASSERT_TRUE(Decide(PollDecision(), Json::array(), {{"taskList", {{"name", "sticky"}}}}).ok());
  Ok("SignalWorkflowExecution", {{"domain", kDomain}, {"workflowId", "w"}, {"signalName", "s"}});
  clock_->AdvanceSeconds(100);
  const Json task =
      Now("PollForDecisionTask", {{"domain", kDomain}, {"taskList", {{"name", "sticky"}}}});
  EXPECT_EQ(task["workflowExecution"]["runId"], run_id);
}

TEST_F(Polls, UnknownDomain) {
  EXPECT_EQ(Call("PollForDecisionTask", {{"domain", "x"}, {"taskList", {{"name", "l"}}}}).fault(),
            Fault::kUnknownResource);
  EXPECT_EQ(Call("PollForActivityTask", {{"domain", "x"}, {"taskList", {{"name", "l"}}}}).fault(),
            Fault::kUnknownResource);
}

TEST_F(Polls, NoIdentity) {
  RegisterTypes();
  const std::string run_id = Start("w");
  Now("PollForDecisionTask", {{"domain", kDomain}, {"taskList", {{"name", kDecisionList}}}});
  EXPECT_EQ(Attributes("w", run_id, 3), Json({{"scheduledEventId", 2}}));
}

class DecisionPages : public EngineFixture {
 protected:
  // A run whose second decision task sees 9 events (started event 9).
  std::string Prepare() {
    RegisterTypes();
    const std::string run_id = Start("w");
    EXPECT_TRUE(
        Decide(PollDecision(), {{{"decisionType", "RecordMarker"},
                                 {"recordMarkerDecisionAttributes", {{"markerName", "m"}}}}})
            .ok());
    Ok("SignalWorkflowExecution", {{"domain", kDomain}, {"workflowId", "w"}, {"signalName", "s"}});
    Ok("SignalWorkflowExecution", {{"domain", kDomain}, {"workflowId", "w"}, {"signalName", "t"}});
    return run_id;
  }
  static std::vector<int> Ids(const Json& events) {
    std::vector<int> ids;
    for (const Json& e : events) ids.push_back(e["eventId"]);
    return ids;
  }
};

TEST_F(DecisionPages, NextPageIsTheSameTask) {
  const std::string run_id = Prepare();
  const Json first = PollDecision({{"maximumPageSize", 4}});
  EXPECT_EQ(first["startedEventId"], 9);
  EXPECT_EQ(first["previousStartedEventId"], 3);
  EXPECT_EQ(Ids(first["events"]), (std::vector<int>{1, 2, 3, 4}));
  ASSERT_TRUE(first.contains("nextPageToken"));
  const Json second =
      PollDecision({{"maximumPageSize", 4}, {"nextPageToken", first["nextPageToken"]}});
  EXPECT_EQ(second["taskToken"], first["taskToken"]);
  EXPECT_EQ(second["startedEventId"], 9);
  EXPECT_EQ(second["previousStartedEventId"], 3);
  EXPECT_EQ(second["workflowExecution"], first["workflowExecution"]);
  EXPECT_EQ(Ids(second["events"]), (std::vector<int>{5, 6, 7, 8}));
  const Json third =
      PollDecision({{"maximumPageSize", 4}, {"nextPageToken", second["nextPageToken"]}});
  EXPECT_EQ(Ids(third["events"]), (std::vector<int>{9}));
  EXPECT_FALSE(third.contains("nextPageToken"));
  // No new task was started by the page fetches.
  EXPECT_EQ(History("w", run_id).size(), 9u);
  EXPECT_TRUE(Decide(first, Json::array()).ok());
}

TEST_F(DecisionPages, ReverseOrder) {
  Prepare();
  const Json first = PollDecision({{"maximumPageSize", 5}, {"reverseOrder", true}});
  EXPECT_EQ(Ids(first["events"]), (std::vector<int>{9, 8, 7, 6, 5}));
  const Json second = PollDecision(
      {{"maximumPageSize", 5}, {"reverseOrder", true}, {"nextPageToken", first["nextPageToken"]}});
  EXPECT_EQ(Ids(second["events"]), (std::vector<int>{4, 3, 2, 1}));
  EXPECT_FALSE(second.contains("nextPageToken"));
}

TEST_F(DecisionPages, StartAtPreviousStartedEvent) {
  Prepare();
  const Json task = PollDecision({{"startAtPreviousStartedEvent", true}});
  EXPECT_EQ(Ids(task["events"]), (std::vector<int>{3, 4, 5, 6, 7, 8, 9}));
}

TEST_F(DecisionPages, CorruptToken) {
  Prepare();
  const Json first = PollDecision({{"maximumPageSize", 4}});
  EXPECT_EQ(Call("PollForDecisionTask", {{"domain", kDomain},
                                         {"taskList", {{"name", kDecisionList}}},
                                         {"nextPageToken", "corrupt"}})
                .fault(),
            Fault::kValidation);
  std::string token = first["nextPageToken"];
  token[token.size() / 2] = token[token.size() / 2] == 'x' ? 'y' : 'x';
  EXPECT_EQ(
      Call("PollForDecisionTask",
           {{"domain", kDomain}, {"taskList", {{"name", kDecisionList}}}, {"nextPageToken", token}})
          .fault(),
      Fault::kValidation);
  // A history token is not a decision token.
  const Json history =
      Ok("GetWorkflowExecutionHistory",
         {{"domain", kDomain}, {"execution", first["workflowExecution"]}, {"maximumPageSize", 1}});
  EXPECT_EQ(Call("PollForDecisionTask", {{"domain", kDomain},
                                         {"taskList", {{"name", kDecisionList}}},
                                         {"nextPageToken", history["nextPageToken"]}})
                .fault(),
            Fault::kValidation);
}

TEST_F(Polls, CallbackMayCallBackIntoTheEngine) {
  RegisterTypes();
  auto inner = std::make_shared<std::optional<Result<Json>>>();
  Engine* engine = engine_.get();
  engine_->CallAsync("PollForDecisionTask", DecisionPoll(), [engine, inner](Result<Json> r) {
    ASSERT_TRUE(r.ok());
    inner->emplace(engine->Call("RespondDecisionTaskCompleted",
                                {{"taskToken", (*r)["taskToken"]}, {"decisions", Json::array()}}));
  });
  const std::string run_id = Start("w");
  ASSERT_TRUE(inner->has_value());
  EXPECT_TRUE((*inner)->ok());
  EXPECT_EQ(EventTypes("w", run_id).back(), "DecisionTaskCompleted");
}

TEST_F(Polls, Stats) {
  RegisterTypes();
  Start("a");
  Start("b");
  ASSERT_TRUE(Decide(PollDecision(), {ScheduleActivity("x"), ScheduleActivity("y")}).ok());
  Ok("TerminateWorkflowExecution", {{"domain", kDomain}, {"workflowId", "b"}});
  Held poll = Hold("PollForDecisionTask", {{"domain", kDomain}, {"taskList", {{"name", "empty"}}}});
  const Engine::Stats stats = engine_->GetStats();
  EXPECT_EQ(stats.open_executions, 1u);
  EXPECT_EQ(stats.closed_executions, 1u);
  EXPECT_EQ(stats.queued_decision_tasks, 0u);
  EXPECT_EQ(stats.queued_activity_tasks, 2u);
  EXPECT_EQ(stats.poll_waiters, 1u);
  engine_->Cancel(poll.id);
}

TEST_F(Polls, ManyThreads) {
  RegisterTypes();
  constexpr int kWorkflows = 40;
  std::atomic<int> completed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      while (completed.load() < kWorkflows) {
        auto task = engine_->Call("PollForDecisionTask", DecisionPoll());
        if (!task.ok() || !swf::HasTask(*task)) continue;
        const Json& events = (*task)["events"];
        // [..., ActivityTaskCompleted, DecisionTaskScheduled, DecisionTaskStarted]
        const bool done = events[events.size() - 3]["eventType"] == "ActivityTaskCompleted";
        Json decisions = Json::array();
        decisions.push_back(done ? CompleteWorkflow() : ScheduleActivity("a"));
        auto r = engine_->Call("RespondDecisionTaskCompleted",
                               {{"taskToken", (*task)["taskToken"]}, {"decisions", decisions}});
        if (r.ok() && done) ++completed;
      }
    });
    threads.emplace_back([&] {
      while (completed.load() < kWorkflows) {
        auto task = engine_->Call("PollForActivityTask", ActivityPoll());
        if (!task.ok() || !swf::HasTask(*task)) continue;
        (void)engine_->Call("RespondActivityTaskCompleted", {{"taskToken", (*task)["taskToken"]}});
      }
    });
  }
  for (int i = 0; i < kWorkflows; ++i) Start("w" + std::to_string(i));
  while (completed.load() < kWorkflows) std::this_thread::yield();
  engine_->Shutdown();  // ends the polls still held
  for (auto& t : threads) t.join();
  EXPECT_EQ(engine_->GetStats().closed_executions, static_cast<std::size_t>(kWorkflows));
}

}  // namespace
}  // namespace garcon::engine::testing
