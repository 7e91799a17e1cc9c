// Decide(): the decisions for a run, from its rebuilt state. Pure.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>

#include "base/limits.h"
#include "garcon/payloads.h"
#include "garcon/activity_execution.h"
#include "garcon/decider.h"

namespace garcon {
namespace {

// Thrown inside Decide to fail the workflow with a reason and details.
struct WorkflowFailure {
  std::string reason;
  std::string details;
};

std::string Seconds(int seconds) {
  // A zero timeout (an empty runner) means "no limit" for that timer; the
  // schedule-to-close timeout still bounds the task.
  return seconds > 0 ? std::to_string(seconds) : "NONE";
}

Json FailDecision(const std::string& reason, const std::string& details) {
  return {{"decisionType", "FailWorkflowExecution"},
          {"failWorkflowExecutionDecisionAttributes",
           {{"reason", limits::CutToCharacters(limits::ValidUtf8(reason),
                                               limits::kMaxReasonCharacters)},
            {"details", limits::CutToCharacters(limits::ValidUtf8(details),
                                                limits::kMaxDataCharacters)}}}};
}

// `generator.country_id=3, generator.size="L"`: an instance's generator
// values, as a person reads them.
std::string ValuesText(const Context& local) {
  std::string out;
  if (!local.is_object()) return out;
  for (const auto& [key, value] : local.items()) {
    if (!out.empty()) out += ", ";
    out += key + "=" + value.dump(-1, ' ', false, Json::error_handler_t::replace);
  }
  return out;
}

// The failure of an instance given up: a reason naming the activity, the
// instance's generator values and the attempt, then the task's own reason;
// details with the same as JSON plus the task's details.
WorkflowFailure InstanceFailure(const Activity& activity, const Context& local,
                                const std::string& activity_id, const ActivityRecord& r,
                                const std::string& reason, const std::string& note = "") {
  const std::string values = ValuesText(local);
  std::string text = activity.short_name() + (values.empty() ? "" : " (" + values + ")") +
                     " attempt " + std::to_string(r.failures) + " of " +
                     std::to_string(activity.retry() + 1) + ": " + reason;
  if (!note.empty()) text += " (" + note + ")";
  Json details = {{"activity", activity.short_name()},
                  {"activityId", activity_id},
                  {"values", local.is_object() ? local : Context::object()},
                  {"attempts", r.failures},
                  {"reason", reason},
                  {"details", r.last_details}};
  if (!note.empty()) details["note"] = note;
  return WorkflowFailure{std::move(text), details.dump(-1, ' ', false, Json::error_handler_t::replace)};
}

// What follows an instance's failed attempt.
struct Verdict {
  enum class Kind { kRetryNow, kWait, kGiveUp };
  Kind kind = Kind::kRetryNow;
  std::int64_t wait = 0;  // kWait, when the backoff timer is not started yet
  std::string reason;     // kGiveUp
};

// A number in [0, 1) from `key`, the same on every machine and replay
// (FNV-1a; std::hash is neither stable nor specified).
double StableUnit(const std::string& key) {
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : key) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return static_cast<double>(h >> 11) * 0x1.0p-53;
}

// The wait, in whole seconds, before the attempt after `failures` failed
// ones (0: at once).
std::int64_t BackoffSeconds(const RetryPolicy& p, int failures, const std::string& jitter_key) {
  if (p.initial_interval.count() <= 0) return 0;
  constexpr double kYear = 365.0 * 24 * 3600;
  double wait = static_cast<double>(p.initial_interval.count()) *
                std::pow(p.multiplier, std::max(0, failures - 1));
  if (p.maximum_interval.count() > 0) {
    wait = std::min(wait, static_cast<double>(p.maximum_interval.count()));
  }
  wait = std::min(wait, kYear);
  wait *= 1.0 - p.jitter * StableUnit(jitter_key);
  return std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil(wait)));
}

class Builder {
 public:
  Builder(const Flow& flow, const HistoryState& state, const ExecutionRef& run)
      : flow_(flow), state_(state), run_(run) {
    for (const auto& [id, record] : state.activities()) {
      if (record.status != ActivityRecord::Status::kScheduled) continue;
      ++(record.child ? open_children_ : open_activities_);
    }
    // A run started on a private decision task list (`{flow list}{tag}`)
    // keeps its activities on private lists too.
    const std::string& list = state.task_list();
    if (list.size() > flow.task_list().size() && list.starts_with(flow.task_list())) {
      tag_ = list.substr(flow.task_list().size());
    }
  }

  // Whether one more activity task (or child run) may be opened now: SWF
  // refuses a run more than 1,000 of each.
  bool Room(const Activity& activity) const {
    return activity.child() ? open_children_ < limits::kMaxOpenChildren
                            : open_activities_ < limits::kMaxOpenActivities;
  }

  void ScheduleInstance(const ActivityInstance& instance, const std::string& activity_id) {
    if (!scheduled_ids_.insert(activity_id).second) return;
    const Activity& activity = instance.activity();
    ++(activity.child() ? open_children_ : open_activities_);
    const std::string input =
        instance.Input(run_.domain, run_.workflow_id, run_.run_id).dump(-1, ' ', false,
                                                                        Json::error_handler_t::replace);
    // Past SWF's 32,768 characters the input is stored as a payload.
    if (input.size() > kMaxPayloadBytes) {
      throw WorkflowFailure{"the input of activity " + activity_id + " is " +
                                std::to_string(input.size()) +
                                " bytes; Garcon stores payloads of up to " +
                                std::to_string(kMaxPayloadBytes) +
                                " bytes (declare the keys its tasks read with Fill or Reads to "
                                "send less)",
                            ""};
    }
    if (const Flow* child = activity.runner().child_flow()) {
      ScheduleChild(*child, activity.runner().child_policy(), activity_id, input);
      return;
    }
    const int timeout = instance.Timeout();
    const int heartbeat = instance.Heartbeat();
    const int schedule_to_start = instance.ScheduleToStart();
    decisions_.push_back(
        {{"decisionType", "ScheduleActivityTask"},
         {"scheduleActivityTaskDecisionAttributes",
          {{"activityType", {{"name", activity.name()}, {"version", flow_.version()}}},
           {"activityId", activity_id},
           {"taskList",
            {{"name", activity.external() ? activity.task_list() : activity.task_list() + tag_}}},
           {"input", input},
           {"startToCloseTimeout", Seconds(timeout)},
           {"heartbeatTimeout", Seconds(heartbeat)},
           {"scheduleToStartTimeout", Seconds(schedule_to_start)},
           {"scheduleToCloseTimeout", Seconds(schedule_to_start + timeout)}}}});
  }

  // A child run of `child` for the instance `activity_id`: its workflow id is
  // `{parent workflow id}.{activity id}` (hashed when that would pass SWF's
  // 256 characters), its control the activity id, its task list the child
  // flow's with this run's private tag.
  void ScheduleChild(const Flow& child, ChildPolicy policy, const std::string& activity_id,
                     const std::string& input) {
    std::string workflow_id = run_.workflow_id + "." + activity_id;
    if (workflow_id.size() > 256) {
      workflow_id = activity_id.substr(0, 200) + "." +
                    std::to_string(static_cast<std::uint64_t>(
                        StableUnit(run_.run_id + "/" + activity_id) * 1e15));
    }
    const char* policy_name = policy == ChildPolicy::kTerminate       ? "TERMINATE"
                              : policy == ChildPolicy::kRequestCancel ? "REQUEST_CANCEL"
                                                                      : "ABANDON";
    decisions_.push_back(
        {{"decisionType", "StartChildWorkflowExecution"},
         {"startChildWorkflowExecutionDecisionAttributes",
          {{"workflowType", {{"name", child.name()}, {"version", child.version()}}},
           {"workflowId", workflow_id},
           {"control", activity_id},
           {"input", input},
           {"taskList", {{"name", child.task_list() + tag_}}},
           {"executionStartToCloseTimeout", std::to_string(child.execution_timeout())},
           {"taskStartToCloseTimeout", std::to_string(child.decision_timeout())},
           {"childPolicy", policy_name}}}});
  }

  // For an instance whose last attempt failed: retry now, wait for its
  // backoff, or give up (retries spent, a failure not worth retrying, the
  // budget spent). Decides nothing.
  Verdict Judge(const std::string& activity_id, const ActivityRecord& record,
                const RetryPolicy& policy) const {
    const std::string reason =
        record.last_reason.empty() ? "failed" : record.last_reason;
    bool retryable = !record.last_reason.starts_with(kNonRetryablePrefix);
    if (retryable && policy.retryable) {
      retryable = policy.retryable(record.last_reason, record.last_details);
    }
    if (!retryable || record.failures > policy.retries) {
      return {Verdict::Kind::kGiveUp, 0, reason};
    }
    if (record.backoff == ActivityRecord::Backoff::kDone) return {};
    if (record.backoff == ActivityRecord::Backoff::kWaiting) return {Verdict::Kind::kWait, 0, ""};
    const std::int64_t wait = BackoffSeconds(
        policy, record.failures,
        run_.run_id + "/" + activity_id + "/" + std::to_string(record.failures));
    if (policy.budget.count() > 0 &&
        state_.now() + static_cast<double>(wait) >
            record.first_scheduled_time + static_cast<double>(policy.budget.count())) {
      return {Verdict::Kind::kGiveUp, 0,
              "retry budget of " + std::to_string(policy.budget.count()) + " s spent: " + reason};
    }
    if (wait == 0) return {};
    return {Verdict::Kind::kWait, wait, ""};
  }

  // Whether the instance whose last attempt failed may be scheduled now.
  // Throws WorkflowFailure when it is given up; while its backoff runs,
  // returns false (adding the StartTimer decision the first time).
  bool ReadyToRetry(const ActivityInstance& instance, const std::string& activity_id,
                    const ActivityRecord& record) {
    const Verdict verdict = Judge(activity_id, record, instance.activity().retry_policy());
    switch (verdict.kind) {
      case Verdict::Kind::kRetryNow:
        return true;
      case Verdict::Kind::kGiveUp:
        throw InstanceFailure(instance.activity(), instance.local_context(), activity_id, record,
                              verdict.reason);
      case Verdict::Kind::kWait:
        break;
    }
    if (verdict.wait > 0) {
      const std::string timer_id = "retry-" + std::to_string(record.scheduled_event_id);
      if (timers_.insert(timer_id).second) {
        decisions_.push_back({{"decisionType", "StartTimer"},
                              {"startTimerDecisionAttributes",
                               {{"timerId", timer_id},
                                {"control", activity_id},
                                {"startToFireTimeout", std::to_string(verdict.wait)}}}});
      }
    }
    return false;
  }

  // Completes the run with `context` (the state's when null) as its result.
  std::vector<Json> Complete(const Context* context = nullptr) {
    const std::string result = (context ? *context : state_.context())
                                   .dump(-1, ' ', false, Json::error_handler_t::replace);
    if (result.size() > kMaxPayloadBytes) {
      return {FailDecision("the workflow result is " + std::to_string(result.size()) +
                               " bytes; Garcon stores payloads of up to " +
                               std::to_string(kMaxPayloadBytes) + " bytes",
                           limits::CutToCharacters(result, 1024))};
    }
    decisions_.push_back({{"decisionType", "CompleteWorkflowExecution"},
                          {"completeWorkflowExecutionDecisionAttributes", {{"result", result}}}});
    return std::move(decisions_);
  }

  // Whether the timer `timer_id` fired; starts it (once) when it was never
  // started.
  bool TimerDone(const std::string& timer_id, std::int64_t seconds, const std::string& control) {
    if (state_.fired_timers().contains(timer_id)) return true;
    if (state_.open_timers().contains(timer_id)) return false;
    if (timers_.insert(timer_id).second) {
      Json attributes = {{"timerId", timer_id}, {"startToFireTimeout", std::to_string(seconds)}};
      if (!control.empty()) attributes["control"] = control;
      decisions_.push_back({{"decisionType", "StartTimer"},
                            {"startTimerDecisionAttributes", std::move(attributes)}});
    }
    return false;
  }

  // Whether `activity`, its requirements complete, may be scheduled: the
  // signal it awaits came, then its delay passed.
  bool GateOpen(const Activity& activity) {
    if (!activity.awaited_signal().empty() &&
        !state_.signals().contains(activity.awaited_signal())) {
      return false;
    }
    if (activity.delay().count() > 0) {
      return TimerDone("after-" + activity.short_name(), activity.delay().count(), activity.name());
    }
    return true;
  }

  std::vector<Json> Take() { return std::move(decisions_); }
  bool empty() const { return decisions_.empty(); }

  const Flow& flow_;
  const HistoryState& state_;
  const ExecutionRef& run_;

 private:
  std::vector<Json> decisions_;
  std::set<std::string> scheduled_ids_;
  std::set<std::string> timers_;
  std::string tag_;
  std::size_t open_activities_ = 0;
  std::size_t open_children_ = 0;
};

// An activity's instances and where they stand.
struct ActivityProgress {
  std::vector<ActivityInstance> instances;
  std::set<std::string> given_up;  // ids of instances failed for good, within the allowance
  Json failed = Json::array();     // what `{short name}.failed` says of them
  bool complete = false;           // every instance completed or given up
};

// Counts the instances given up (retries spent...) of `activity`: within its
// allowance (Optional, AllowFailures) they count as done and are listed in
// `failed`; past it, throws the workflow's failure.
ActivityProgress Progress(Builder& b, const Activity& activity,
                          std::vector<ActivityInstance> instances,
                          const std::function<std::string(const ActivityInstance&)>& id_of) {
  ActivityProgress p;
  p.instances = std::move(instances);
  bool all = true;
  std::optional<WorkflowFailure> last;
  for (const auto& inst : p.instances) {
    const std::string id = id_of(inst);
    const ActivityRecord* r = b.state_.Find(id);
    if (r && r->status == ActivityRecord::Status::kCompleted) continue;
    if (r && r->status == ActivityRecord::Status::kFailed) {
      const Verdict v = b.Judge(id, *r, activity.retry_policy());
      if (v.kind == Verdict::Kind::kGiveUp) {
        p.given_up.insert(id);
        p.failed.push_back({{"activityId", id},
                            {"values", inst.local_context()},
                            {"attempts", r->failures},
                            {"reason", v.reason}});
        last = InstanceFailure(activity, inst.local_context(), id, *r, v.reason);
        continue;
      }
    }
    all = false;
  }
  const std::size_t allowed = activity.AllowedFailures(p.instances.size());
  if (p.given_up.size() > allowed) {
    if (allowed == 0) throw *last;
    last->reason = limits::CutToCharacters(
        last->reason + " (" + std::to_string(p.given_up.size()) + " of " +
            std::to_string(p.instances.size()) + " instances failed; " + std::to_string(allowed) +
            " allowed)",
        limits::kMaxReasonCharacters);
    throw *last;
  }
  p.complete = all;
  return p;
}

// The derived flow decider.
std::vector<Json> DecideFlow(Builder& b) {
  // Not a copy: the state outlives this decision (a fan-out's context holds
  // every result so far).
  std::shared_ptr<const Context> context(std::shared_ptr<const Context>(), &b.state_.context());
  const auto id_of = [](const ActivityInstance& inst) { return inst.id(); };
  std::map<const Activity*, ActivityProgress> progress;
  Context failures = Context::object();  // `{short name}.failed` of the activities with some
  for (const auto& activity : b.flow_.activities()) {
    ActivityProgress p = Progress(b, *activity, activity->Instances(context), id_of);
    if (!p.failed.empty()) failures[activity->short_name() + ".failed"] = p.failed;
    progress.emplace(activity.get(), std::move(p));
  }
  // Later activities see which instances failed: their inputs (and the
  // result) carry the lists.
  if (!failures.empty()) {
    Context with_failures = *context;
    with_failures.update(failures);
    context = std::make_shared<const Context>(std::move(with_failures));
    for (auto& [activity, p] : progress) p.instances = activity->Instances(context);
  }

  bool incomplete = false;
  bool open = false;
  std::vector<std::string> blocked;
  for (const auto& activity : b.flow_.activities()) {
    bool requirements_met = true;
    for (const Activity* required : activity->requires_activities()) {
      requirements_met = requirements_met && progress.at(required).complete;
    }
    const ActivityProgress& p = progress.at(activity.get());
    std::optional<bool> gate_open;  // asked once, when an instance is to be scheduled
    // Instances of this activity open now, for MaxConcurrent.
    int running = 0;
    if (activity->max_concurrent() > 0) {
      for (const auto& inst : p.instances) {
        const ActivityRecord* r = b.state_.Find(inst.id());
        running += r && r->status == ActivityRecord::Status::kScheduled ? 1 : 0;
      }
    }
    for (const auto& inst : p.instances) {
      const std::string id = inst.id();
      if (p.given_up.contains(id)) continue;
      const ActivityRecord* r = b.state_.Find(id);
      if (r && r->status == ActivityRecord::Status::kCompleted) continue;
      incomplete = true;
      if (r && r->status == ActivityRecord::Status::kScheduled) {
        open = true;
        continue;
      }
      if (requirements_met && !b.Room(*activity)) {
        open = true;  // the run is at SWF's open limit: scheduled as others close
        continue;
      }
      if (requirements_met && activity->max_concurrent() > 0 &&
          running >= activity->max_concurrent()) {
        open = true;  // at its MaxConcurrent: scheduled as its others close
        continue;
      }
      if (r && !b.ReadyToRetry(inst, id, *r)) {
        open = true;  // waiting for its backoff timer
        continue;
      }
      if (requirements_met) {
        if (!gate_open) gate_open = b.GateOpen(*activity);
        if (!*gate_open) {
          open = true;  // waiting for its signal or its delay
          continue;
        }
        b.ScheduleInstance(inst, id);
        ++running;
      } else if (blocked.empty() || blocked.back() != activity->short_name()) {
        blocked.push_back(activity->short_name());
      }
    }
  }
  if (incomplete && !open && b.empty()) {
    // Nothing runs and nothing can start: only circular requirements do this.
    std::string names;
    for (const auto& name : blocked) names += (names.empty() ? "" : ", ") + name;
    throw WorkflowFailure{"no activity can start: the requirements of " + names +
                              " can never be met (circular requirements)",
                          ""};
  }
  return incomplete ? b.Take() : b.Complete(context.get());
}

class ScheduleImpl final : public Schedule {
 public:
  explicit ScheduleImpl(Builder& b) : b_(b) {}

  ActivityState operator()(const std::string& id, const Activity& activity,
                           const std::vector<ActivityState>& after,
                           const Context& input) override {
    for (const auto& state : after) {
      if (!state.ready()) {
        complete_ = false;
        throw NotReady();
      }
    }
    Context context = b_.state_.context();
    if (input.is_object()) context.update(input);
    const auto id_of = [&id](const ActivityInstance& inst) { return inst.id() + "-" + id; };
    const ActivityProgress p = Progress(b_, activity, activity.Instances(context), id_of);
    bool all_completed = true;
    Context result = Context::object();
    for (const auto& inst : p.instances) {
      const std::string activity_id = id_of(inst);
      if (p.given_up.contains(activity_id)) continue;
      const ActivityRecord* r = b_.state_.Find(activity_id);
      if (r && r->status == ActivityRecord::Status::kCompleted) {
        result.update(r->result);
        continue;
      }
      all_completed = false;
      if (r && r->status == ActivityRecord::Status::kScheduled) continue;
      if (!b_.Room(activity)) continue;  // at SWF's open limit: later
      if (r && !b_.ReadyToRetry(inst, activity_id, *r)) continue;
      b_.ScheduleInstance(inst, activity_id);
    }
    if (!p.failed.empty()) result[activity.short_name() + ".failed"] = p.failed;
    if (!all_completed) complete_ = false;
    return ActivityState(all_completed, std::move(result));
  }

  ActivityState Timer(const std::string& id, std::chrono::seconds delay) override {
    if (id.empty() || id.size() > 250) {
      throw std::invalid_argument("Timer: an id is 1 to 250 characters");
    }
    const bool done =
        b_.TimerDone("timer-" + id, std::max<std::int64_t>(0, delay.count()), "");
    if (!done) complete_ = false;
    return ActivityState(done, Context::object());
  }

  ActivityState Signal(const std::string& name) override {
    auto it = b_.state_.signals().find(name);
    if (it == b_.state_.signals().end()) {
      complete_ = false;
      return ActivityState(false, Context::object());
    }
    return ActivityState(true, it->second);
  }

  bool complete() const { return complete_; }

 private:
  Builder& b_;
  bool complete_ = true;
};

std::vector<Json> DecideCustom(Builder& b) {
  ScheduleImpl schedule(b);
  try {
    b.flow_.custom_decider()(schedule, b.state_.input());
  } catch (const NotReady&) {
    return b.Take();
  }
  return schedule.complete() ? b.Complete() : b.Take();
}

// A cancellation was requested: nothing new is scheduled and nothing is
// retried; every open activity is asked to cancel (a queued one is canceled at
// once, a running one learns it from its heartbeats and stops, or finishes),
// and the run closes CANCELED once no activity is open, so that no task keeps
// running for a run that is gone.
std::vector<Json> DecideCancel(const HistoryState& state) {
  std::vector<Json> decisions;
  // Backoff waits end with the run.
  for (const auto& timer : state.open_timers()) {
    decisions.push_back({{"decisionType", "CancelTimer"},
                         {"cancelTimerDecisionAttributes", {{"timerId", timer.first}}}});
  }
  bool open = false;
  for (const auto& [id, record] : state.activities()) {
    if (record.status != ActivityRecord::Status::kScheduled) continue;
    open = true;
    if (record.cancel_requested) continue;
    if (record.child) {
      // A child run is asked to cancel too; the run closes once it has.
      Json attributes = {{"workflowId", record.child_workflow_id}, {"control", id}};
      if (!record.child_run_id.empty()) attributes["runId"] = record.child_run_id;
      decisions.push_back({{"decisionType", "RequestCancelExternalWorkflowExecution"},
                           {"requestCancelExternalWorkflowExecutionDecisionAttributes",
                            std::move(attributes)}});
      continue;
    }
    decisions.push_back({{"decisionType", "RequestCancelActivityTask"},
                         {"requestCancelActivityTaskDecisionAttributes", {{"activityId", id}}}});
  }
  if (!open) {
    decisions.push_back(
        {{"decisionType", "CancelWorkflowExecution"},
         {"cancelWorkflowExecutionDecisionAttributes",
          {{"details", limits::CutToCharacters(limits::ValidUtf8(state.cancel_details()),
                                               limits::kMaxDataCharacters)}}}});
  }
  return decisions;
}

}  // namespace

std::vector<Json> Decide(const Flow& flow, const HistoryState& state, const ExecutionRef& run) {
  if (state.closed()) return {};
  if (!state.fatal_error().empty()) return {FailDecision(state.fatal_error(), "")};
  if (state.cancel_requested()) return DecideCancel(state);
  if (!state.workflow_version().empty() && state.workflow_version() != flow.version()) {
    // Started on this version's task list by hand: this code cannot decide
    // another version's run, and leaving it would stall it silently.
    return {FailDecision("this run is of version " + state.workflow_version() + " of " +
                             flow.name() + " but was started on the task list " +
                             state.task_list() + ", served by version " + flow.version() +
                             "; start it on its own version's task list",
                         "")};
  }
  Builder builder(flow, state, run);
  try {
    std::vector<Json> decisions = flow.custom_decider() ? DecideCustom(builder) : DecideFlow(builder);
    if (state.decisions_completed() == 0 && !state.graph_recorded()) {
      // The flow's shape, once per run, so that tools can draw any run's
      // graph without the flow's code (skipped past SWF's marker limit).
      const std::string graph =
          flow.Graph().dump(-1, ' ', false, Json::error_handler_t::replace);
      if (limits::Characters(graph) <= limits::kMaxDataCharacters) {
        decisions.insert(decisions.begin(),
                         Json{{"decisionType", "RecordMarker"},
                              {"recordMarkerDecisionAttributes",
                               {{"markerName", kGraphMarker}, {"details", graph}}}});
      }
    }
    return decisions;
  } catch (const WorkflowFailure& f) {
    return {FailDecision(f.reason, f.details)};
  } catch (const std::exception& e) {
    return {FailDecision(e.what(), "the decider raised an exception")};
  } catch (...) {
    // A custom decider may throw anything; it must not escape the decider loop.
    return {FailDecision("the decider raised an unknown exception (not a std::exception)", "")};
  }
}

}  // namespace garcon
