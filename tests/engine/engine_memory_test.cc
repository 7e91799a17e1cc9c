// Bounded memory: only open runs stay in memory. Closed runs leave it once
// their close is durable, on every store and without one, and are still
// served from the store: Describe, history pages, List/Count closed with
// keyset pages.
#include <gtest/gtest.h>

#include "engine/engine_fixture.h"

namespace garcon::engine::testing {
namespace {

class Memory : public EngineFixture {
 protected:
  // Runs w-0..w-(n-1) one after the other, each through one activity.
  std::vector<std::string> CompleteRuns(int n) {
    std::vector<std::string> run_ids;
    for (int i = 0; i < n; ++i) {
      run_ids.push_back(Start("w-" + std::to_string(i)));
      EXPECT_TRUE(Decide(PollDecision(), ScheduleActivity("a")).ok());
      const Json task = PollActivity();
      EXPECT_TRUE(
          Call("RespondActivityTaskCompleted", {{"taskToken", task["taskToken"]}, {"result", "r"}})
              .ok());
      EXPECT_TRUE(Decide(PollDecision(), CompleteWorkflow("done-" + std::to_string(i))).ok());
    }
    return run_ids;
  }
};

TEST_F(Memory, ClosedRunsLeaveMemoryAndAreServedFromTheStore) {
  RegisterTypes();
  const auto run_ids = CompleteRuns(30);
  Start("open-one");
  engine_->Flush();
  const Engine::Stats stats = engine_->GetStats();
  EXPECT_EQ(stats.open_executions, 1u);
  EXPECT_EQ(stats.closed_executions, 30u);
  EXPECT_EQ(stats.resident_runs, 1u) << "closed runs are still in memory";

  const Json described = Describe("w-7", run_ids[7]);
  EXPECT_EQ(described["executionInfo"]["closeStatus"], "COMPLETED");
  EXPECT_EQ(described["openCounts"]["openActivityTasks"], 0);
  const Json events = History("w-7", run_ids[7]);
  ASSERT_EQ(events.size(), 11u);
  for (std::size_t i = 0; i < events.size(); ++i) EXPECT_EQ(events[i]["eventId"], i + 1);
  EXPECT_EQ(events.back()["workflowExecutionCompletedEventAttributes"]["result"], "done-7");
  // Reverse pages of 4 from the store.
  Json request{{"domain", kDomain},
               {"execution", {{"workflowId", "w-7"}, {"runId", run_ids[7]}}},
               {"reverseOrder", true},
               {"maximumPageSize", 4}};
  std::vector<int> ids;
  for (;;) {
    const Json page = Ok("GetWorkflowExecutionHistory", request);
    for (const Json& e : page["events"]) ids.push_back(e["eventId"]);
    if (!page.contains("nextPageToken")) break;
    request["nextPageToken"] = page["nextPageToken"];
  }
  EXPECT_EQ(ids, (std::vector<int>{11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1}));
  EXPECT_EQ(Call("DescribeWorkflowExecution",
                 {{"domain", kDomain}, {"execution", {{"workflowId", "w-8"}, {"runId", run_ids[7]}}}})
                .fault(),
            Fault::kUnknownResource);
}

// The latest closed runs are described from memory (without reading the
// store); the answer is the one the store's row gives once the run is no
// longer among them.
TEST_F(Memory, ARecentlyClosedRunIsDescribedAsTheStoreHoldsIt) {
  RegisterTypes();
  clock_->Advance(std::chrono::nanoseconds(1234567));  // times that are not whole microseconds
  const std::string run_id = Start("kept", {{"tagList", {"t1", "t2"}}});
  EXPECT_TRUE(Decide(PollDecision(), ScheduleActivity("a")).ok());
  const Json task = PollActivity();
  clock_->Advance(std::chrono::nanoseconds(7654321));
  EXPECT_TRUE(
      Call("RespondActivityTaskCompleted", {{"taskToken", task["taskToken"]}, {"result", "r"}})
          .ok());
  EXPECT_TRUE(
      Decide(PollDecision(), CompleteWorkflow(), {{"executionContext", "the context"}}).ok());
  engine_->Flush();
  Start("open-one");  // a later operation: the closed run has left the open runs
  const Json recent = Describe("kept", run_id);
  EXPECT_EQ(recent["executionInfo"]["closeStatus"], "COMPLETED");
  EXPECT_EQ(recent["latestExecutionContext"], "the context");
  EXPECT_EQ(recent["openCounts"]["openActivityTasks"], 0);
  EXPECT_EQ(Call("DescribeWorkflowExecution",
                 {{"domain", kDomain}, {"execution", {{"workflowId", "other"}, {"runId", run_id}}}})
                .fault(),
            Fault::kUnknownResource);
  // More runs close than the engine keeps described in memory.
  for (int i = 0; i < 1100; ++i) {
    const std::string id = "later-" + std::to_string(i);
    Start(id);
    Ok("TerminateWorkflowExecution", {{"domain", kDomain}, {"workflowId", id}});
  }
  EXPECT_EQ(Describe("kept", run_id), recent);
}

// Past the recently closed runs the engine keeps, a new run takes the
// memory an evicted one held: nothing of the old run shows in the new one.
TEST_F(Memory, ARunStartedAfterManyClosesCarriesNothingOfAnEarlierRun) {
  RegisterTypes();
  for (int i = 0; i < 1030; ++i) {
    const std::string id = "tagged-" + std::to_string(i);
    Start(id, {{"tagList", {"old-tag"}}, {"input", "old input"}});
    EXPECT_TRUE(
        Decide(PollDecision(), ScheduleActivity("a"), {{"executionContext", "old context"}}).ok());
    Ok("TerminateWorkflowExecution", {{"domain", kDomain}, {"workflowId", id}});
  }
  engine_->Flush();
  for (int i = 0; i < 3; ++i) {
    const std::string id = "fresh-" + std::to_string(i);
    const std::string run_id = Start(id);
    const Json described = Describe(id, run_id);
    EXPECT_EQ(described["executionInfo"]["executionStatus"], "OPEN");
    EXPECT_EQ(described["executionInfo"]["execution"]["runId"], run_id);
    EXPECT_FALSE(described["executionInfo"].contains("tagList")) << described.dump();
    EXPECT_FALSE(described["executionInfo"].contains("closeStatus")) << described.dump();
    EXPECT_FALSE(described.contains("latestExecutionContext")) << described.dump();
    EXPECT_EQ(described["openCounts"]["openActivityTasks"], 0);
    EXPECT_EQ(described["openCounts"]["openDecisionTasks"], 1);
    const Json events = History(id, run_id);
    ASSERT_EQ(events.size(), 2u);
    EXPECT_FALSE(events[0]["workflowExecutionStartedEventAttributes"].contains("input"));
    EXPECT_FALSE(events[0]["workflowExecutionStartedEventAttributes"].contains("tagList"));
  }
  const Engine::Stats stats = engine_->GetStats();
  EXPECT_EQ(stats.open_executions, 3u);
  EXPECT_EQ(stats.closed_executions, 1030u);
}

TEST_F(Memory, ClosedListsPageThroughTheStoreNewestFirst) {
  RegisterTypes();
  std::vector<std::string> run_ids;
  for (int i = 0; i < 25; ++i) {
    run_ids.push_back(Start("w-" + std::to_string(i)));
    clock_->AdvanceSeconds(1);
    Ok("TerminateWorkflowExecution", {{"domain", kDomain}, {"workflowId", "w-" + std::to_string(i)}});
  }
  Json request{{"domain", kDomain},
               {"closeTimeFilter", {{"oldestDate", T0()}}},
               {"maximumPageSize", 10}};
  std::vector<std::string> listed;
  int pages = 0;
  for (;;) {
    const Json page = Ok("ListClosedWorkflowExecutions", request);
    ++pages;
    for (const Json& info : page["executionInfos"]) listed.push_back(info["execution"]["runId"]);
    if (!page.contains("nextPageToken")) break;
    request["nextPageToken"] = page["nextPageToken"];
  }
  EXPECT_EQ(pages, 3);
  ASSERT_EQ(listed.size(), 25u);
  for (int i = 0; i < 25; ++i) EXPECT_EQ(listed[static_cast<std::size_t>(i)], run_ids[24 - i]);
  EXPECT_EQ(Ok("CountClosedWorkflowExecutions",
               {{"domain", kDomain},
                {"startTimeFilter", {{"oldestDate", T0() + 10}, {"latestDate", T0() + 14}}}})["count"],
            5);
  EXPECT_EQ(Ok("CountClosedWorkflowExecutions",
               {{"domain", kDomain},
                {"startTimeFilter", {{"oldestDate", T0()}}},
                {"executionFilter", {{"workflowId", "w-3"}}}})["count"],
            1);
  // An oldestDate after the latestDate matches nothing.
  EXPECT_EQ(Ok("ListClosedWorkflowExecutions",
               {{"domain", kDomain},
                {"startTimeFilter", {{"oldestDate", T0() + 20}, {"latestDate", T0()}}}})
                ["executionInfos"]
                    .size(),
            0u);
  EXPECT_EQ(Call("ListClosedWorkflowExecutions",
                 {{"domain", kDomain},
                  {"startTimeFilter", {{"oldestDate", 0}}},
                  {"nextPageToken", "garbage"}})
                .fault(),
            Fault::kValidation);
}

}  // namespace
}  // namespace garcon::engine::testing
