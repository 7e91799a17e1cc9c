// Retention: a closed run's record and history are purged once its domain's
// retention period has passed since it closed; open runs are never purged.
#include <gtest/gtest.h>

#include "engine/engine_fixture.h"

namespace garcon::engine::testing {
namespace {

class Retention : public EngineFixture {
 protected:
  // Registers domain "kept" with `days` of retention and a workflow type in
  // it, and starts "w". Returns the run id.
  std::string StartInKept(const std::string& days, const std::string& task_timeout) {
    Ok("RegisterDomain", {{"name", "kept"}, {"workflowExecutionRetentionPeriodInDays", days}});
    Ok("RegisterWorkflowType", {{"domain", "kept"},
                                {"name", "wf"},
                                {"version", "1"},
                                {"defaultTaskList", {{"name", "deciders"}}},
                                {"defaultExecutionStartToCloseTimeout", "31536000"},
                                {"defaultTaskStartToCloseTimeout", task_timeout},
                                {"defaultChildPolicy", "TERMINATE"}});
    return Ok("StartWorkflowExecution", {{"domain", "kept"},
                                         {"workflowId", "w"},
                                         {"workflowType", {{"name", "wf"}, {"version", "1"}}}})
        .value("runId", "");
  }

  // StartInKept, then completes the run at once.
  std::string CompletedRun(const std::string& days) {
    const std::string run_id = StartInKept(days, "30");
    const Json task = Now("PollForDecisionTask",
                          {{"domain", "kept"}, {"taskList", {{"name", "deciders"}}}});
    EXPECT_TRUE(Decide(task, CompleteWorkflow()).ok());
    return run_id;
  }

  Result<Json> DescribeIn(const std::string& run_id) {
    return Call("DescribeWorkflowExecution",
                {{"domain", "kept"}, {"execution", {{"workflowId", "w"}, {"runId", run_id}}}});
  }
};

TEST_F(Retention, AClosedRunIsPurgedWhenItsRetentionPasses) {
  const std::string run_id = CompletedRun("1");
  clock_->AdvanceSeconds(86399);
  EXPECT_TRUE(DescribeIn(run_id).ok());
  clock_->AdvanceSeconds(1);
  EXPECT_EQ(DescribeIn(run_id).fault(), Fault::kUnknownResource);
  EXPECT_EQ(Call("GetWorkflowExecutionHistory",
                 {{"domain", "kept"}, {"execution", {{"workflowId", "w"}, {"runId", run_id}}}})
                .fault(),
            Fault::kUnknownResource);
  EXPECT_EQ(Ok("CountClosedWorkflowExecutions",
               {{"domain", "kept"}, {"startTimeFilter", {{"oldestDate", 0}}}})["count"],
            0);
  if (Reopen()) {
    EXPECT_EQ(DescribeIn(run_id).fault(), Fault::kUnknownResource);
  }
}

TEST_F(Retention, ZeroDaysPurgesAtClose) {
  const std::string run_id = CompletedRun("0");
  EXPECT_EQ(DescribeIn(run_id).fault(), Fault::kUnknownResource);
}

TEST_F(Retention, OpenRunsAreNeverPurged) {
  const std::string run_id = StartInKept("0", "NONE");
  clock_->AdvanceSeconds(100 * 86400);
  EXPECT_TRUE(DescribeIn(run_id).ok());
}

TEST_F(Retention, ARetentionThatPassedWhileDownPurgesAtReopen) {
  const std::string run_id = CompletedRun("1");
  if (!has_store()) GTEST_SKIP() << "runs on a store (GARCON_TEST_STORE=memory|sqlite)";
  engine_.reset();
  clock_->AdvanceSeconds(2 * 86400);
  ASSERT_TRUE(Reopen());
  EXPECT_EQ(DescribeIn(run_id).fault(), Fault::kUnknownResource);
}

}  // namespace
}  // namespace garcon::engine::testing
