// Cancelling a running flow end to end on the embedded engine: the flow
// decider honours RequestCancelWorkflowExecution, a running task learns of it
// from its heartbeats and stops cleanly, nothing after it is scheduled, and
// the run closes CANCELED.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <thread>

#include "garcon/app.h"
#include "garcon/engine.h"
#include "garcon/flow.h"

namespace garcon {
namespace {

using namespace std::chrono_literals;

TEST(CancelFlowTest, ARunningFlowStopsCleanlyAndClosesCanceled) {
  engine::Engine engine;
  std::promise<void> long_task_started;
  std::atomic<int> heartbeats_until_stop{0};
  Flow flow("cancel-domain", "cancel_flow");
  auto& first = flow.Activity("first").Run(Sync([](ActivityExecution&, const Context&) {
    return Context{{"first", "done"}};
  }));
  auto& slow = flow.Activity("slow").Requires({&first}).Run(
      Sync([&](ActivityExecution& e, const Context&) {
        long_task_started.set_value();
        // A long task: works in steps, heartbeating between them.
        for (;;) {
          ++heartbeats_until_stop;
          e.ThrowIfCancelRequested("stopped cleanly");
          std::this_thread::sleep_for(5ms);
        }
      }));
  bool after_ran = false;
  flow.Activity("after").Requires({&slow}).Run(
      Sync([&](ActivityExecution&, const Context&) { after_ran = true; }));

  RunOptions options;
  options.workflow_id = "to-cancel";
  options.pollers = 1;
  options.release_polls = [&engine] { engine.Shutdown(); };
  auto running = std::async(std::launch::async, [&] { return RunFlow(flow, engine, options); });
  ASSERT_EQ(long_task_started.get_future().wait_for(30s), std::future_status::ready);

  // What `aws swf request-cancel-workflow-execution` sends.
  ASSERT_TRUE(engine
                  .Call("RequestCancelWorkflowExecution",
                        {{"domain", "cancel-domain"}, {"workflowId", "to-cancel"}})
                  .ok());
  ASSERT_EQ(running.wait_for(30s), std::future_status::ready);
  Result<RunSummary> summary = running.get();
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(summary->close_status, "CANCELED");
  EXPECT_EQ(summary->details, "cancellation requested");
  EXPECT_FALSE(after_ran);
  EXPECT_GE(heartbeats_until_stop.load(), 1);

  Result<Json> history = engine.Call(
      "GetWorkflowExecutionHistory",
      {{"domain", "cancel-domain"},
       {"execution", {{"workflowId", "to-cancel"}, {"runId", summary->run_id}}}});
  ASSERT_TRUE(history.ok());
  std::vector<std::string> types;
  std::string canceled_details;
  for (const Json& e : (*history)["events"]) {
    types.push_back(e["eventType"]);
    if (e["eventType"] == "ActivityTaskCanceled") {
      canceled_details = e["activityTaskCanceledEventAttributes"].value("details", "");
    }
  }
  EXPECT_THAT(types, ::testing::Contains("WorkflowExecutionCancelRequested"));
  EXPECT_THAT(types, ::testing::Contains("ActivityTaskCancelRequested"));
  EXPECT_EQ(canceled_details, "stopped cleanly");
  EXPECT_EQ(types.back(), "WorkflowExecutionCanceled");
  EXPECT_EQ(std::count(types.begin(), types.end(), "ActivityTaskScheduled"), 2)
      << "nothing is scheduled after the request";
}

}  // namespace
}  // namespace garcon
