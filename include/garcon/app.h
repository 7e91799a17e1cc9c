// Running a flow: the command line every flow program gets
// (`garcon::Main`), and the library call behind `run` (`RunFlow`).
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "garcon/flow.h"
#include "garcon/payloads.h"
#include "garcon/service.h"
#include "garcon/worker.h"

namespace garcon {

struct RunOptions {
  Context input = Context::object();
  std::string workflow_id;  // default: {flow name}-{random}
  // Appended to the flow's and the activities' task lists for this run
  // (not to External activities': their workers run elsewhere). RunFlow
  // picks a random one when empty, so that its run goes only to the decider
  // and workers it starts, never to other processes serving the flow;
  // StartFlow leaves it empty: the run goes to the shared lists.
  std::string task_list_tag;
  // Signals RunFlow sends to its run right after starting it (name, input):
  // how a local run gets the signals its flow awaits.
  std::vector<std::pair<std::string, std::string>> signals;
  // Show a progress line (for terminals).
  bool progress = false;
  // Poll loops per activity (WorkerOptions::pollers).
  int pollers = kDefaultPollers;
  // Called once the execution has closed, before the decider and worker
  // threads are joined: it must make their pending long polls return (e.g.
  // Engine::Shutdown). Without it, joining may wait for a poll timeout.
  std::function<void()> release_polls;
  // Where values past SWF's 32,768 characters go (garcon/payloads.h): the
  // run's input, its deciders' and workers' payloads, its result. Null: the
  // engine's own store through the service.
  std::shared_ptr<PayloadStore> payloads;
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

// Registers the flow (idempotently) and starts one execution with
// options.input and options.workflow_id. Returns the summary's ids filled.
Result<RunSummary> StartFlow(const Flow& flow, swf::Service& service, const RunOptions& options);

// Waits for the execution in `started` to close (asking the service), then
// reads its history and returns how it ended (a result stored as a payload
// read from `payloads`, null: the engine's own store).
Result<RunSummary> WaitForClose(const Flow& flow, swf::Service& service, RunSummary started,
                                bool progress, std::shared_ptr<PayloadStore> payloads = nullptr);

// The command line of a flow program:
//   run [--input JSON] [--workflow-id ID] [--json] [--db FILE] [--endpoint URL]
//       [--signal NAME[=INPUT] ...]
//       one execution, decider and workers in this process; on the embedded
//       engine (in memory, or durable in --db), or on a remote engine
//   decider --endpoint URL      decision loop until SIGINT/SIGTERM
//   worker --endpoint URL [--activity NAME ...]   activity loops, likewise
//   start --endpoint URL [--workflow-id ID] [--input JSON] [--wait] [--json]
//   signal --endpoint URL WORKFLOW_ID NAME [--input TEXT] [--run-id RUN]
//   graph [--format mermaid|dot|json]   the flow's graph (and its child flows')
// --endpoint may be left out where AWS_ENDPOINT_URL_SWF (or Amazon SWF with
// the usual AWS credentials, --region, --profile) is meant. `run` and
// `start --wait` exit 0 only if the workflow completed. With --json, the last
// line on stdout is one JSON object (closeStatus, result, historyEvents,
// workflowId, runId, reason, details).
int Main(const Flow& flow, int argc, char** argv);

}  // namespace garcon
