// Running a flow: the command line every flow program gets
// (`garcon::Main`), and the library call behind `run` (`RunFlow`).
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>

#include "garcon/flow.h"
#include "garcon/service.h"

namespace garcon {

struct RunOptions {
  Context input = Context::object();
  std::string workflow_id;  // default: {flow name}-{random}
  // Show a progress line (for terminals).
  bool progress = false;
  // Called once the execution has closed, before the decider and worker
  // threads are joined: it must make their pending long polls return (e.g.
  // Engine::Shutdown). Without it, joining may wait for a poll timeout.
  std::function<void()> release_polls;
};

struct RunSummary {
  std::string workflow_id;
  std::string run_id;
  std::string close_status;  // COMPLETED, FAILED, TIMED_OUT, ...
  Context result;            // the final context (COMPLETED), else null
  std::string reason;        // FAILED: the failure reason
  std::string details;       // FAILED: the failure details
  std::size_t history_events = 0;
  double seconds = 0;
  Json ToJson() const;
};

// Registers the flow, starts one execution, runs a decider and the flow's
// workers in threads against `service`, waits for the execution to close,
// and returns how it ended.
Result<RunSummary> RunFlow(const Flow& flow, swf::Service& service, const RunOptions& options);

// The command line of a flow program:
//   run [--input JSON] [--workflow-id ID] [--json] [--verbose]
// Runs the flow on the embedded engine and exits 0 only if the workflow
// completed. With --json, the last line on stdout is one JSON object
// (closeStatus, result, historyEvents, workflowId, runId, reason, details).
int Main(const Flow& flow, int argc, char** argv);

}  // namespace garcon
