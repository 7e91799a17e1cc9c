// The activity worker derived from a flow: one long-poll loop per activity
// task list; runs the activity's runner, heartbeats, and answers completed
// (with the result) or failed (with the reason and details).
#pragma once

#include <chrono>
#include <memory>
#include <stop_token>
#include <string>
#include <vector>

#include "garcon/flow.h"
#include "garcon/payloads.h"
#include "garcon/service.h"

namespace garcon {

// Poll loops per activity unless told otherwise. On a durable engine each
// loop waits for a commit twice a task (its answer, then its next task), so
// more loops share each commit: durable runs take 0.6-0.75x the time they
// took with 4, memory runs about the same (docs/benchmarks.md, "Poll loops
// per activity").
inline constexpr int kDefaultPollers = 8;

struct WorkerOptions {
  std::string identity;  // recorded in ActivityTaskStarted; defaults to host:pid
  // Activities to serve, by short or full name; empty = every activity that
  // is neither External nor a child flow.
  std::vector<std::string> activities;
  // While a task runs, a heartbeat is sent this often (at most; also at most
  // a third of the activity's heartbeat timeout), so a slow task is not
  // taken for a dead worker.
  std::chrono::milliseconds heartbeat_interval = std::chrono::seconds(30);
  // Poll loops per activity: up to this many of its tasks run at once (the
  // instances of a generator, typically), so its tasks must be safe to run
  // in parallel with each other. 1 runs them one at a time.
  int pollers = kDefaultPollers;
  // Appended to each activity's task list: this worker polls
  // `{activity.task_list()}{task_list_tag}` (RunFlow's private lists).
  std::string task_list_tag;
  // Where values past SWF's 32,768 characters go (garcon/payloads.h); null:
  // the engine's own store through the service (the embedded engine and
  // `garcon server`).
  std::shared_ptr<PayloadStore> payloads;
};

// Thread-safe.
class ActivityWorker {
 public:
  // Throws std::invalid_argument for an unknown or External activity name.
  ActivityWorker(const Flow& flow, swf::Service& service, WorkerOptions options = {});

  // The activities this worker serves.
  const std::vector<const Activity*>& activities() const { return activities_; }

  // Long-polls `activity`'s task list once and runs the task if one came.
  // Returns whether a task was handled (a task that failed counts as
  // handled: it was answered), or the error of a failed call.
  Result<bool> PollOnce(const Activity& activity);

  // options.pollers loops per activity, each on its own thread, until `stop`
  // is requested; returns when all have ended. A loop never dies on an error: it
  // is logged, passed to the exception handler, and the loop backs off.
  void Run(std::stop_token stop);

 private:
  const Flow& flow_;
  // The service, wrapped to move payloads out of the history and back.
  std::unique_ptr<swf::Service> payload_service_;
  swf::Service& service_;
  WorkerOptions options_;
  std::vector<const Activity*> activities_;
};

}  // namespace garcon
