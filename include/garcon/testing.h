// The test kit: run a flow in-process on a fake clock that skips time, with
// fake activities per instance and attempt, and replay a recorded history
// against the current flow code to check it still makes the same decisions.
//
//   garcon::testing::FlowTest test(flow);
//   test.Fake("charge", [](const Context& input, int attempt) -> Context {
//     if (attempt == 1) throw std::runtime_error("gateway down");
//     return {{"charged", input.value("amount", 0.0)}};
//   });
//   test.Signal("approved", {{"approver", "ana"}}, std::chrono::hours(2));
//   auto run = test.Run({{"amount", 12.5}});   // milliseconds, whatever the timers
//   EXPECT_EQ(run.close_status, "COMPLETED");
//
//   test.Cancel(std::chrono::minutes(30));     // RequestCancelWorkflowExecution
//   auto canceled = test.Run({{"amount", 12.5}});
//   EXPECT_EQ(canceled.close_status, "CANCELED");
//
//   auto replay = garcon::testing::Replay(flow, recorded_history);
//   EXPECT_TRUE(replay.ok) << replay.divergence;
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "garcon/decider.h"
#include "garcon/flow.h"

namespace garcon::engine {
class Engine;
}

namespace garcon::testing {

// Stands in for an activity's tasks: called with the instance's input and the
// attempt (1, 2, ...); returns the result, or throws to fail the attempt
// (garcon::NonRetryable for a failure not worth retrying).
using FakeActivity = std::function<Context(const Context& input, int attempt)>;

struct RunResult {
  // COMPLETED, FAILED, CANCELED, TIMED_OUT, TERMINATED, CONTINUED_AS_NEW; or
  // OPEN when the run waits for something that will never come (a signal not
  // given to the test, an External activity without a fake).
  std::string close_status;
  Context result;       // COMPLETED: the final context
  std::string reason;   // FAILED: the reason
  std::string details;  // FAILED, CANCELED: the details
  std::string waiting;  // OPEN: what it waits for
  std::string workflow_id;
  std::string run_id;
  std::vector<Json> history;  // the run's events
  // Fake time that passed from the start to the close.
  std::chrono::seconds elapsed{0};

  // Attempts scheduled of an activity (short name), over all its instances.
  int Attempts(const std::string& activity) const;
  // The history as GetWorkflowExecutionHistory returns it: {"events": [...]}.
  Json HistoryJson() const;
};

// Runs a flow (and the flows it runs as children) on the embedded engine with
// a fake clock, single-threaded and deterministic: decisions and tasks are
// handled one at a time, and when nothing can happen until a timer fires
// (backoff, .After, schedule.Timer) or a signal or cancel request is due,
// the clock jumps there. Activities run their real tasks unless faked.
class FlowTest {
 public:
  explicit FlowTest(const Flow& flow);
  ~FlowTest();
  FlowTest(const FlowTest&) = delete;
  FlowTest& operator=(const FlowTest&) = delete;

  // Runs `fake` instead of the tasks of `activity` (short or full name, in
  // the flow or one of its child flows; External activities too).
  FlowTest& Fake(const std::string& activity, FakeActivity fake);
  // Sends the signal `name` with `input` once `after` (fake time) passed
  // since the start.
  FlowTest& Signal(std::string name, Context input = Context::object(),
                   std::chrono::seconds after = std::chrono::seconds(0));
  // Asks to cancel the run (RequestCancelWorkflowExecution, as `garcon
  // workflow cancel` or an SDK does) once `after` (fake time) passed since
  // the start. The flow decider then cancels its timers, asks its open
  // activities and child runs to cancel, and closes the run CANCELED once
  // none is open; SWF's request carries no details, so the run's are the
  // decider's ("cancellation requested"). A request due after the run
  // closed is not sent. Signals and cancel requests due at the same time go
  // in the order they were given.
  FlowTest& Cancel(std::chrono::seconds after = std::chrono::seconds(0));

  // Starts one run with `input` and drives it to its close (or until it
  // waits for what never comes). Each Run starts a new run.
  RunResult Run(const Context& input = Context::object());

  // The engine the runs live on.
  engine::Engine& engine();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

struct ReplayResult {
  bool ok = true;
  // Where the flow now decides otherwise than the history shows: the
  // DecisionTaskCompleted event, what the history did and what the flow
  // does now. Empty when ok.
  std::string divergence;
  std::int64_t event_id = 0;
  int decision_tasks = 0;  // decision tasks compared
};

// Replays a recorded history (the JSON of GetWorkflowExecutionHistory, every
// page: {"events": [...]} or the array) against `flow`: for each decision
// task the history completed, the decisions the flow makes now from the
// events before it are compared with the decisions the history recorded
// (their types and ids, in order). A change of code that would make open
// runs of that history decide differently shows as the first divergence.
// `run` gives the execution's ids where the flow's decisions depend on them
// (child workflow ids); Replay compares children by their control instead.
ReplayResult Replay(const Flow& flow, const Json& history, const ExecutionRef& run = {});

}  // namespace garcon::testing
