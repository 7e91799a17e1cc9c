// The decider derived from a flow: a pure function of the execution history
// (same events in, same decisions out), plus the loop that polls decision
// tasks and answers them.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <vector>

#include "garcon/flow.h"
#include "garcon/payloads.h"
#include "garcon/service.h"

namespace garcon {

// Thrown by ActivityState::Wait/result and by Schedule when a requirement is
// not complete yet. The decider catches it: it stops the custom decider
// quietly and sends what was scheduled so far.
class NotReady : public std::exception {
 public:
  const char* what() const noexcept override { return "activity not ready"; }
};

// The state of what a custom decider scheduled.
class ActivityState {
 public:
  ActivityState() = default;
  ActivityState(bool ready, Context result) : ready_(ready), result_(std::move(result)) {}

  // Every instance completed.
  bool ready() const { return ready_; }
  // The merged results of the instances; throws NotReady when not ready.
  const Context& result() const;
  // Throws NotReady when not ready.
  void Wait() const;

 private:
  bool ready_ = false;
  Context result_ = Context::object();
};

// Given to a custom decider.
class Schedule {
 public:
  virtual ~Schedule() = default;
  // Schedules every instance of `activity` (id `{instance id}-{id}`) that is
  // not scheduled yet, reschedules a failed one within its retries, and
  // returns the state. Throws NotReady when an `after` state is not ready.
  // `input` is merged over the context for the instances.
  virtual ActivityState operator()(const std::string& id, const garcon::Activity& activity,
                                   const std::vector<ActivityState>& after = {},
                                   const Context& input = Context::object()) = 0;
  // A timer (SWF StartTimer, timer id `timer-{id}`) started the first time
  // this is asked for; ready once it fired, with an empty result.
  virtual ActivityState Timer(const std::string& id, std::chrono::seconds delay) = 0;
  // Ready once the run received a signal named `name`; the result is its
  // input when that is a JSON object, else `{name: input}` (the latest
  // signal of that name wins).
  virtual ActivityState Signal(const std::string& name) = 0;
};

// What happened to one activity id in a run, rebuilt from the history.
struct ActivityRecord {
  enum class Status { kScheduled, kCompleted, kFailed };
  Status status = Status::kScheduled;
  int failures = 0;            // failed, timed out or canceled attempts
  Context result;              // of the completed attempt
  std::string last_reason;     // of the last failed attempt
  std::string last_details;
  std::int64_t scheduled_event_id = 0;
  // The decider asked SWF to cancel this attempt (ActivityTaskCancelRequested,
  // or RequestCancelActivityTaskFailed when it had closed meanwhile).
  bool cancel_requested = false;
  // The wait before the next attempt (RetryPolicy): a timer `retry-{id of
  // the failed attempt's ActivityTaskScheduled}` whose control is the
  // activity id. Reset by the next ActivityTaskScheduled.
  enum class Backoff { kNone, kWaiting, kDone };
  Backoff backoff = Backoff::kNone;
  // When the first attempt was scheduled (eventTimestamp, epoch seconds):
  // where a retry budget counts from.
  double first_scheduled_time = 0;
  // Run as a child workflow (StartChildWorkflowExecutionInitiated, whose
  // control is the activity id): the child's workflow id and, once started,
  // its run id.
  bool child = false;
  std::string child_workflow_id;
  std::string child_run_id;
};

// An event's `{eventType}EventAttributes` object (an empty object when it
// has none).
const Json& EventAttributes(const Json& event);

namespace decide_internal {
struct FlowCache;
}  // namespace decide_internal

// A run's state rebuilt from its events, applied incrementally in event
// order: applying the events of one decision task costs only those events.
//
// Decide keeps what it derives from the state for a flow (the instances of
// each activity, where each stands, the activities ready to go on) in a
// cache inside the state and updates it from the records changed since its
// last call, so a decision costs the new events, not the run's size. That
// cache is not copied with the state (a copy rebuilds it at its first
// decision), and a state must not be decided from two threads at once.
class HistoryState {
 public:
  // Applies one event (must be the next eventId).
  void Apply(const Json& event);

  std::int64_t last_event_id() const { return last_event_id_; }
  const Context& input() const { return input_; }
  // The workflow input, then each completed activity's result merged in event
  // order (last writer wins).
  const Context& context() const { return context_; }
  const std::map<std::string, ActivityRecord>& activities() const { return activities_; }
  const ActivityRecord* Find(const std::string& activity_id) const;
  // A ScheduleActivityTaskFailed or other decision failure that makes the
  // flow unable to go on (empty when none).
  const std::string& fatal_error() const { return fatal_error_; }
  bool closed() const { return closed_; }
  // Someone asked to cancel the run (WorkflowExecutionCancelRequested): the
  // flow decider then schedules nothing more, asks every open activity to
  // cancel, and closes the run CANCELED once none is open.
  bool cancel_requested() const { return cancel_requested_; }
  // What the request said: its cause (CHILD_POLICY_APPLIED) or who asked.
  const std::string& cancel_details() const { return cancel_details_; }
  // The timestamp of the last event applied (epoch seconds): "now" for a
  // decision, the same on every replay.
  double now() const { return now_; }
  // Timers started and not yet fired or canceled: timer id -> control.
  const std::map<std::string, std::string>& open_timers() const { return open_timers_; }
  // DecisionTaskCompleted events so far: 0 while the first decision is made.
  int decisions_completed() const { return decisions_completed_; }
  // Whether the flow's graph marker (kGraphMarker) is in the history.
  bool graph_recorded() const { return graph_recorded_; }
  // Timers that fired.
  const std::set<std::string>& fired_timers() const { return fired_timers_; }
  // Signals received, by name: the latest one's input as a JSON object
  // (`{name: input}` when the input is not an object).
  const std::map<std::string, Context>& signals() const { return signals_; }
  // The run's decision task list and its workflow type's version, as started.
  const std::string& task_list() const { return task_list_; }
  const std::string& workflow_version() const { return workflow_version_; }
  // Activity tasks and child runs open now (status kScheduled).
  std::size_t open_activities() const { return open_activities_; }
  std::size_t open_children() const { return open_children_; }
  // The ids of the records each event changed, in event order (an id once
  // per change): what Decide's cache reads to catch up.
  const std::vector<std::string>& changes() const { return changes_; }

  // Decide's cache for this state (see above); null until the first decision.
  decide_internal::FlowCache* flow_cache() const { return flow_cache_.cache.get(); }
  void set_flow_cache(std::shared_ptr<decide_internal::FlowCache> cache) const {
    flow_cache_.cache = std::move(cache);
  }

 private:
  // Moves `r` to `status`, keeping the open counts.
  void SetStatus(ActivityRecord& r, ActivityRecord::Status status);
  // Records that the record of `id` changed.
  void Changed(const std::string& id) { changes_.push_back(id); }

  std::int64_t last_event_id_ = 0;
  Context input_ = Context::object();
  Context context_ = Context::object();
  std::map<std::string, ActivityRecord> activities_;
  std::map<std::int64_t, std::string> by_scheduled_event_;
  std::string fatal_error_;
  bool closed_ = false;
  bool cancel_requested_ = false;
  std::string cancel_details_;
  std::string task_list_;
  std::string workflow_version_;
  double now_ = 0;
  std::map<std::string, std::string> open_timers_;
  std::set<std::string> fired_timers_;
  int decisions_completed_ = 0;
  bool graph_recorded_ = false;
  std::map<std::string, Context> signals_;
  std::size_t open_activities_ = 0;
  std::size_t open_children_ = 0;
  std::vector<std::string> changes_;
  // Decide's cache: moved with the state, not copied (a copy starts empty and
  // rebuilds its own).
  struct FlowCacheSlot {
    FlowCacheSlot() = default;
    FlowCacheSlot(const FlowCacheSlot&) {}
    FlowCacheSlot& operator=(const FlowCacheSlot&) {
      cache.reset();
      return *this;
    }
    FlowCacheSlot(FlowCacheSlot&&) noexcept = default;
    FlowCacheSlot& operator=(FlowCacheSlot&&) noexcept = default;
    ~FlowCacheSlot() = default;
    std::shared_ptr<decide_internal::FlowCache> cache;
  };
  mutable FlowCacheSlot flow_cache_;
};

struct ExecutionRef {
  std::string domain;
  std::string workflow_id;
  std::string run_id;
};

// The decisions for a run in `state` (a list of SWF Decision objects).
// Pure: depends only on the flow and the state.
//
// Activities go to their task lists (Activity::task_list()), with the tag of
// the run's own decision task list when it was started on a private one
// (`{flow task list}{tag}`, see RunOptions), External activities excepted:
// their workers run elsewhere and poll the shared list. A run of another
// version than the flow's is failed with a reason saying so.
std::vector<Json> Decide(const Flow& flow, const HistoryState& state, const ExecutionRef& run);

struct DeciderOptions {
  std::string identity;  // recorded in DecisionTaskStarted; defaults to host:pid
  // Runs whose state is kept between decision tasks (least recently used
  // are dropped; a dropped run is replayed from its full history).
  std::size_t cache_size = 1000;
  // Events per history page. Pages come newest first and reading stops at
  // the first known event, so a small page keeps a cached run's decision
  // cheap; a run not in the cache reads history/page_size pages.
  int page_size = 100;
  // Appended to the flow's task list: this decider polls
  // `{flow.task_list()}{task_list_tag}` (RunFlow's private lists).
  std::string task_list_tag;
  // Where values past SWF's 32,768 characters go (garcon/payloads.h); null:
  // the engine's own store through the service (the embedded engine and
  // `garcon server`).
  std::shared_ptr<PayloadStore> payloads;
};

// Polls the flow's decision task list and answers decision tasks.
// Thread-safe: several threads may call PollOnce.
class Decider {
 public:
  Decider(const Flow& flow, swf::Service& service, DeciderOptions options = {});

  // Long-polls once and handles the decision task if one came. Returns
  // whether a task was handled, or the error of the failed call.
  Result<bool> PollOnce();

  // Loops until `stop` is requested. Never dies on an error: it is logged,
  // passed to the flow's exception handler, and the loop backs off
  // (exponential with jitter, up to 30 s) before polling again.
  void Run(std::stop_token stop);

 private:
  struct CacheEntry;
  std::shared_ptr<CacheEntry> Lookup(const std::string& run_id);
  void Store(const std::string& run_id, std::shared_ptr<CacheEntry> entry);

  const Flow& flow_;
  // The service, wrapped to move payloads out of the history and back.
  std::unique_ptr<swf::Service> payload_service_;
  swf::Service& service_;
  DeciderOptions options_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<CacheEntry>> cache_;
  std::map<std::uint64_t, std::string> by_use_;  // last use -> run id
  std::uint64_t tick_ = 0;
};

// Registers the flow's domain (retention from the flow), workflow type and
// every activity type, and those of the flows it runs as children.
// "Already exists" is not an error.
Status Register(const Flow& flow, swf::Service& service);

}  // namespace garcon
