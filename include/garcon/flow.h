// A flow: a workflow declared as activities with dependencies, retries,
// generators and runners. Garcon derives the decider and the activity workers
// from it.
#pragma once

#include <chrono>
#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "garcon/runner.h"
#include "garcon/status.h"
#include "garcon/task.h"

namespace garcon {

class Flow;
class Schedule;

// Yields one local context per instance; an activity's instances are the
// cartesian product of its generators' outputs.
using GeneratorFn = std::function<std::vector<Context>(const Context&)>;
// Called with the actor (the activity's name, or "decider") and the error.
using ExceptionHandler = std::function<void(const std::string& actor, const std::exception&)>;
// A custom decider: schedules activities with `schedule` and reads their
// states; see decider.h.
using CustomDecider = std::function<void(Schedule& schedule, const Context& input)>;

// Default per-instance schedule-to-start timeout (seconds).
inline constexpr int kDefaultScheduleToStart = 600;

// How a failed, timed-out or canceled attempt of an activity instance is
// retried. The waits between attempts are SWF timers in the history, so they
// survive decider restarts and cost no worker; a wait is whole seconds (SWF
// timers' unit), rounded up.
struct RetryPolicy {
  // Attempts after the first (N+1 in all); what `.Retry(n)` sets.
  int retries = 0;
  // The wait before the second attempt; 0 retries at once (the original's
  // behaviour).
  std::chrono::seconds initial_interval{0};
  // Each further wait is the previous one times this (>= 1).
  double multiplier = 2.0;
  // A cap on the wait (0: none).
  std::chrono::seconds maximum_interval{0};
  // 0 to 1: each wait is shortened by up to this fraction, at random but
  // the same on every replay of the run (so deciders stay deterministic).
  double jitter = 0.0;
  // Retries stop once the next attempt would start later than this after
  // the instance's first attempt was scheduled (0: no budget).
  std::chrono::seconds budget{0};
  // Whether a failure is worth another attempt, from its reason and
  // details (empty: every failure is). A reason starting with
  // kNonRetryablePrefix (a task threw garcon::NonRetryable) never is.
  std::function<bool(const std::string& reason, const std::string& details)> retryable;
};

class Activity;

// One instance of an activity for a given context: what the decider
// schedules.
class ActivityInstance {
 public:
  ActivityInstance(const Activity* activity, Context local_context,
                   std::shared_ptr<const Context> global_context, std::size_t instance_count);

  const Activity& activity() const { return *activity_; }
  const Context& local_context() const { return local_context_; }
  // The global context merged with the local context.
  Context MergedContext() const;

  // `{activity name}-1` without a local context, else
  // `{activity name}-{sha1 of 'k':'v'; pairs, keys sorted}`.
  // Computed once per instance (a SHA-1 of the values), then remembered.
  const std::string& id() const;

  // Start-to-close: the runner's timeout for this instance's context.
  int Timeout() const;
  // The runner's heartbeat timeout.
  int Heartbeat() const;
  // Instances of the activity x its schedule_to_start (pessimistic: one
  // worker runs them all).
  int ScheduleToStart() const;
  // ScheduleToStart() + Timeout().
  int ScheduleToClose() const;

  // The input sent with the task. When every task declares the keys it reads:
  // those keys (null values dropped) plus execution.domain,
  // execution.workflow_id and execution.run_id. Otherwise the whole merged
  // context.
  Context Input(std::string_view domain, std::string_view workflow_id,
                std::string_view run_id) const;

 private:
  const Activity* activity_;
  Context local_context_;
  std::shared_ptr<const Context> global_context_;
  std::size_t instance_count_;
  mutable std::string id_;  // empty until id() is first asked
};

// Declared through Flow::Activity; owned by its Flow. Setters return *this
// for chaining.
class Activity {
 public:
  Activity(const Flow* flow, std::string name);

  // Activities whose every instance must complete before this one starts.
  // Throws DeclarationError for a null one; Flow::Validate reports the
  // activity itself, another flow's activity and circular requirements.
  Activity& Requires(std::vector<const Activity*> activities);
  // The runner: Sync(...), Async(...) or External(...).
  Activity& Run(Runner runner);
  // Re-runs allowed after a failed or timed-out attempt (N+1 attempts), at
  // once. Keeps the rest of the policy.
  Activity& Retry(int retries);
  // The whole retry policy: backoff between attempts, a time budget, and
  // which failures are retried. Throws DeclarationError when it makes
  // no sense (negative counts or intervals, multiplier < 1, jitter outside
  // 0..1, a maximum below the initial interval).
  Activity& Retry(RetryPolicy policy);
  // Adds a generator; instances are the cartesian product of all generators.
  // The flow decider calls the generators once per run, at the first
  // decision where this activity's requirements are complete and the signal
  // it awaits (if any) came, with the context then, and keeps the instances:
  // a generator should read the input, its requirements' results (and their
  // `.failed` lists) and its signal, which are settled by then.
  Activity& Generator(GeneratorFn generator);
  // Per-instance base of the schedule-to-start timeout (default 600 s).
  Activity& ScheduleToStart(int seconds);
  // Overrides the flow's exception handler for this activity.
  Activity& OnException(ExceptionHandler handler);
  // Shorthand for Run(garcon::External(timeout, heartbeat)).
  Activity& External(int timeout, std::optional<int> heartbeat = std::nullopt);
  // Once its requirements are complete, waits `delay` (an SWF timer
  // `after-{short name}` in the history: no worker is held, a decider
  // restart changes nothing) before its instances are scheduled.
  Activity& After(std::chrono::seconds delay);
  // Runs only once the run has received a signal named `name`
  // (SignalWorkflowExecution; `<flow> signal ID NAME --input JSON`), before
  // or after its requirements completed. A signal's input, when it is a JSON
  // object, is merged into the context like an activity's result, so the
  // activity sees what the signal carried.
  Activity& AwaitSignal(std::string name);
  // Partial results. An instance given up (its retries spent, a failure not
  // retried, its budget spent) fails the run unless allowed: up to `count`
  // instances of the activity, or up to `fraction` (0 to 1) of them, may be
  // given up; the activity then counts as complete once every other
  // instance completed, and later activities (and the result) find the
  // failed ones in the context under `{short name}.failed`: a list of
  // {activityId, values (the generator values), attempts, reason}.
  Activity& AllowFailures(int count);
  Activity& AllowFailures(double fraction);
  // Its failure does not fail the run: AllowFailures(1.0).
  Activity& Optional();
  // At most `n` of its instances open (scheduled or running) at once; the
  // others are scheduled as those close. Whatever this says, the flow
  // decider keeps a run under SWF's 1,000 open activity tasks (and 1,000
  // open child runs), so a generator may yield more instances than that.
  // Past kInstancesPerSlice instances they run in slices (child runs of
  // this flow, see kInstancesPerSlice): at most max(1, n / kInstancesPerSlice)
  // slices at once (kSlicesAtOnce without MaxConcurrent), each with at most
  // n instances open.
  Activity& MaxConcurrent(int n);

  // `{flow name}_{name}`: the activity type name.
  const std::string& name() const { return full_name_; }
  // `{flow name}_{name}@{flow version}`: the task list its workers poll, so
  // that a worker of one version never takes another version's task (see
  // docs/design.md, "Versions").
  const std::string& task_list() const { return task_list_; }
  const std::string& short_name() const { return name_; }
  const Flow& flow() const { return *flow_; }
  const std::vector<const Activity*>& requires_activities() const { return requires_; }
  const Runner& runner() const { return runner_; }
  int retry() const { return retry_.retries; }
  const RetryPolicy& retry_policy() const { return retry_; }
  int schedule_to_start() const { return schedule_to_start_; }
  bool external() const { return runner_.external(); }
  // Run as a child workflow (Run(garcon::Child(flow))): no worker runs it.
  bool child() const { return runner_.child(); }
  // Whether a worker of this flow runs it: neither External nor Child.
  bool local() const { return !runner_.external() && !runner_.child(); }
  std::chrono::seconds delay() const { return delay_; }
  const std::string& awaited_signal() const { return signal_; }
  // How many of `instances` instances may be given up.
  std::size_t AllowedFailures(std::size_t instances) const;
  // MaxConcurrent's n; 0 when unset.
  int max_concurrent() const { return max_concurrent_; }
  std::size_t generator_count() const { return generators_.size(); }
  // AllowFailures's count, or its fraction (when no count).
  std::optional<int> allowed_failure_count() const { return allowed_count_; }
  double allowed_failure_fraction() const { return allowed_fraction_; }
  // This activity's handler, else the flow's (may be empty).
  const ExceptionHandler& exception_handler() const;

  // The instances for `context` (the cartesian product of the generators;
  // exactly one, with an empty local context, without generators).
  std::vector<ActivityInstance> Instances(const Context& context) const;
  std::vector<ActivityInstance> Instances(std::shared_ptr<const Context> context) const;

 private:
  const Flow* flow_;
  std::string name_;
  std::string full_name_;
  std::string task_list_;
  std::vector<const Activity*> requires_;
  Runner runner_;
  RetryPolicy retry_;
  std::vector<GeneratorFn> generators_;
  int schedule_to_start_ = kDefaultScheduleToStart;
  ExceptionHandler on_exception_;
  std::chrono::seconds delay_{0};
  std::string signal_;
  std::optional<int> allowed_count_;
  double allowed_fraction_ = 0;
  int max_concurrent_ = 0;
};

class Flow {
 public:
  // `name` and `version` are the workflow type's; the decider's task list is
  // `{name}@{version}` (task_list()).
  Flow(std::string domain, std::string name, std::string version = "1.0");
  Flow(const Flow&) = delete;
  Flow& operator=(const Flow&) = delete;

  // Declares an activity. Names must be unique in the flow (Validate
  // reports a name declared twice). The reference stays valid for the flow's
  // lifetime.
  garcon::Activity& Activity(std::string name);

  // The mistakes in the flow's declaration, found before it runs: an
  // activity name declared twice, an activity that requires itself or an
  // activity of another flow, circular requirements, a task whose Fill does
  // not match its parameters. kValidation naming them, or OK. Register (so
  // RunFlow, StartFlow and every command of Main) checks it first.
  Status Validate() const;

  // Replaces the derived flow decider with a custom one.
  Flow& Decider(CustomDecider decider);
  // Called when a task, a poll or the decider fails.
  Flow& OnException(ExceptionHandler handler);
  // Execution start-to-close timeout, seconds (default 1 year, SWF's maximum).
  Flow& ExecutionTimeout(int seconds);
  // Decision task start-to-close timeout, seconds (default 60).
  Flow& DecisionTimeout(int seconds);
  // Domain retention in days (default 90).
  Flow& RetentionDays(int days);

  const std::string& domain() const { return domain_; }
  const std::string& name() const { return name_; }
  const std::string& version() const { return version_; }
  // `{name}@{version}`: the decision task list, registered as the workflow
  // type's default. Deciders of one version never take another version's
  // runs: old runs finish on the old version's deciders while new runs start
  // on the new one (docs/design.md, "Versions").
  const std::string& task_list() const { return task_list_; }
  int execution_timeout() const { return execution_timeout_; }
  int decision_timeout() const { return decision_timeout_; }
  int retention_days() const { return retention_days_; }
  const CustomDecider& custom_decider() const { return decider_; }
  const ExceptionHandler& exception_handler() const { return on_exception_; }

  // Activities in declaration order.
  const std::vector<std::unique_ptr<garcon::Activity>>& activities() const { return activities_; }
  // By full name (`{flow}_{name}`) or short name; null when unknown.
  const garcon::Activity* FindActivity(std::string_view name) const;
  // The flows this one runs as children, and theirs, each once (not this
  // one): what `run`, `decider`, `worker` and Register serve with it.
  std::vector<const Flow*> ChildFlows() const;

  // The flow's shape as JSON, enough to draw it without its code:
  // {"flow", "version", "activities": [{"name", "requires": [...], "runner":
  // "sync|async|external|child", "child" (a child flow's task list),
  // "generators", "retries", "backoff" (initial seconds), "allowFailures"
  // (count or fraction), "maxConcurrent", "after" (seconds), "signal"}]}
  // (keys without a value are left out). The flow decider records it in each
  // run's history (a `garcon.graph` marker at the first decision).
  Json Graph() const;

 private:
  std::string domain_;
  std::string name_;
  std::string version_;
  std::string task_list_;
  std::vector<std::unique_ptr<garcon::Activity>> activities_;
  CustomDecider decider_;
  ExceptionHandler on_exception_;
  int execution_timeout_ = 365 * 24 * 3600;
  int decision_timeout_ = 60;
  int retention_days_ = 90;
};

// The graph of Flow::Graph() as Mermaid (`flowchart LR`) or Graphviz DOT.
std::string GraphMermaid(const Json& graph);
std::string GraphDot(const Json& graph);

// The marker under which the flow decider records the graph in a run.
inline constexpr const char* kGraphMarker = "garcon.graph";

// Fan-outs past one run's reach (docs/design.md, "Fan-outs"): a generator
// yielding more than kInstancesPerSlice instances has them run in slices of
// at most that many, each a child run of the same flow whose input carries
// the slice under kSliceKey and whose result merges its instances' results
// (with the instances it gave up listed under kSliceFailedKey, which the
// parent takes out of the context). 2,000 instances keep a slice's history
// far below SWF's 25,000 events even when many attempts fail and retry.
inline constexpr std::size_t kInstancesPerSlice = 2000;
// Slices running at once when the activity has no MaxConcurrent: up to
// 8,000 activity tasks open, plenty for the workers of most deployments,
// while an engine holds the histories of 8 open slices, not of them all.
inline constexpr std::size_t kSlicesAtOnce = 8;
inline constexpr const char* kSliceKey = "garcon.slice";
inline constexpr const char* kSliceFailedKey = "garcon.slice.failed";

}  // namespace garcon
