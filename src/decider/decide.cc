// Decide(): the decisions for a run, from its rebuilt state. Pure.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

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
                                const std::string& activity_id, int attempts,
                                const std::string& reason, const std::string& task_details,
                                const std::string& note = "") {
  const std::string values = ValuesText(local);
  std::string text = activity.short_name() + (values.empty() ? "" : " (" + values + ")") +
                     " attempt " + std::to_string(attempts) + " of " +
                     std::to_string(activity.retry() + 1) + ": " + reason;
  if (!note.empty()) text += " (" + note + ")";
  Json details = {{"activity", activity.short_name()},
                  {"activityId", activity_id},
                  {"values", local.is_object() ? local : Context::object()},
                  {"attempts", attempts},
                  {"reason", reason},
                  {"details", task_details}};
  if (!note.empty()) details["note"] = note;
  return WorkflowFailure{std::move(text), details.dump(-1, ' ', false, Json::error_handler_t::replace)};
}

WorkflowFailure InstanceFailure(const Activity& activity, const Context& local,
                                const std::string& activity_id, const ActivityRecord& r,
                                const std::string& reason, const std::string& note = "") {
  return InstanceFailure(activity, local, activity_id, r.failures, reason, r.last_details, note);
}

// `object[key]` when it is a string, else empty (values written by another
// run: a slice's input and result).
std::string StringAt(const Json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// The same, for an instance a slice's run gave up: from the entry it listed
// under kSliceFailedKey.
WorkflowFailure InstanceFailure(const Activity& activity, const Json& entry) {
  const int attempts =
      entry.contains("attempts") && entry["attempts"].is_number_integer() ? entry["attempts"].get<int>() : 0;
  return InstanceFailure(activity, entry.contains("values") ? entry["values"] : Json::object(),
                         StringAt(entry, "activityId"), attempts, StringAt(entry, "reason"),
                         StringAt(entry, "details"));
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
      : flow_(flow),
        state_(state),
        run_(run),
        open_activities_(state.open_activities()),
        open_children_(state.open_children()) {
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

  bool RoomForChild() const { return open_children_ < limits::kMaxOpenChildren; }

  // Past SWF's 32,768 characters an input is stored as a payload; past the
  // largest payload, the run fails naming `what`.
  static void CheckInputSize(const std::string& what, const std::string& input,
                             const char* hint) {
    if (input.size() <= kMaxPayloadBytes) return;
    throw WorkflowFailure{"the input of " + what + " is " + std::to_string(input.size()) +
                              " bytes; Garcon stores payloads of up to " +
                              std::to_string(kMaxPayloadBytes) + " bytes" + hint,
                          ""};
  }

  // A slice of a fan-out (docs/design.md, "Fan-outs"): a child run of this
  // flow whose input (`input`) carries the slice under kSliceKey; its
  // control is the slice's id.
  void ScheduleSlice(const std::string& slice_id, const Context& input) {
    if (!scheduled_ids_.insert(slice_id).second) return;
    ++open_children_;
    const std::string text = input.dump(-1, ' ', false, Json::error_handler_t::replace);
    CheckInputSize("slice " + slice_id, text, "");
    ScheduleChild(flow_, ChildPolicy::kTerminate, slice_id, text);
  }

  // The run the instances' inputs name (execution.workflow_id, .run_id):
  // this one, or for a slice's run, the run whose fan-out it is.
  void NameRunInInputs(std::string workflow_id, std::string run_id) {
    input_workflow_id_ = std::move(workflow_id);
    input_run_id_ = std::move(run_id);
  }

  void ScheduleInstance(const ActivityInstance& instance, const std::string& activity_id) {
    if (!scheduled_ids_.insert(activity_id).second) return;
    const Activity& activity = instance.activity();
    ++(activity.child() ? open_children_ : open_activities_);
    const std::string input =
        instance
            .Input(run_.domain, input_workflow_id_.empty() ? run_.workflow_id : input_workflow_id_,
                   input_workflow_id_.empty() ? run_.run_id : input_run_id_)
            .dump(-1, ' ', false, Json::error_handler_t::replace);
    CheckInputSize("activity " + activity_id, input,
                   " (declare the keys its tasks read with Fill or Reads to send less)");
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
           {"scheduleToCloseTimeout", Seconds(instance.ScheduleToClose())}}}});
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
  bool ReadyToRetry(const Activity& activity, const Context& local,
                    const std::string& activity_id, const ActivityRecord& record) {
    const Verdict verdict = Judge(activity_id, record, activity.retry_policy());
    switch (verdict.kind) {
      case Verdict::Kind::kRetryNow:
        return true;
      case Verdict::Kind::kGiveUp:
        throw InstanceFailure(activity, local, activity_id, record, verdict.reason);
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
  std::string input_workflow_id_;
  std::string input_run_id_;
  std::size_t open_activities_;
  std::size_t open_children_;
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

}  // namespace

// What Decide derives from a run's state for the flow decider, kept between
// decisions and updated from the records changed since (HistoryState::
// changes()), so that a decision costs the new events and the decisions it
// makes, not the run's size.
namespace decide_internal {

// Where an instance stands, from its record.
enum class Bucket : unsigned char {
  kTodo,     // no attempt yet, or its last attempt failed and is not given up
  kOpen,     // an attempt is scheduled or running
  kDone,     // completed
  kGivenUp,  // failed for good (retries spent, not retryable, budget spent)
};

struct Slot {
  Context local;  // the instance's generator values
  std::string id;
  Bucket bucket = Bucket::kTodo;
};

struct GivenUp {
  Json entry;          // what `{short name}.failed` lists of it
  std::string reason;  // the verdict's
};

struct ActivityCache {
  // Its instances are known: computed once, when its requirements are
  // complete (and the signal it awaits came).
  bool evaluated = false;
  bool complete = false;
  std::size_t unmet = 0;  // requirements not complete yet
  std::vector<std::size_t> dependents;
  std::vector<Slot> slots;        // in the generators' order, each id once
  std::size_t count = 0;          // instances the generators yielded
  std::set<std::size_t> todo;     // kTodo slots, in order
  std::set<std::size_t> failed;   // the kTodo slots whose last attempt failed
  std::size_t open = 0;           // kOpen slots
  std::map<std::size_t, GivenUp> given_up;
  // More than kInstancesPerSlice instances: each slot is a slice of them, a
  // child run of the flow (docs/design.md, "Fan-outs").
  bool sliced = false;
  std::vector<Json> slice_values;  // each slice's instances' values (an array)
  // The context when the activity became ready: what every slice's instances
  // see (not the results of the slices done before theirs).
  std::shared_ptr<const Context> slice_base;
  // The instances each completed slice gave up, and their number.
  std::map<std::size_t, std::vector<GivenUp>> slice_given_up;
  std::size_t slice_given_up_count = 0;
};

bool HasFailures(const ActivityCache& a) {
  return !a.given_up.empty() || a.slice_given_up_count > 0;
}

struct FlowCache {
  const Flow* flow = nullptr;
  std::string run_id;
  std::size_t seen = 0;  // HistoryState::changes() read so far
  std::vector<ActivityCache> activities;
  std::unordered_map<std::string, std::pair<std::size_t, std::size_t>> by_id;
  std::set<std::size_t> active;  // evaluated and not complete
  std::set<std::size_t> ready;   // requirements complete, not evaluated yet
  std::size_t completed = 0;
  std::size_t with_failures = 0;  // activities with instances given up
  // This run is a slice (its input holds kSliceKey): only the slice's
  // activity runs, over the instances of `slice_values`, each seeing
  // `slice_context` (the parent's context when the slice started).
  bool slice = false;
  Json slice_values;
  std::size_t slice_count = 0;  // the instances of the whole fan-out
  std::shared_ptr<const Context> slice_context;
  std::string parent_workflow_id;  // the run whose fan-out it is
  std::string parent_run_id;
};

}  // namespace decide_internal

namespace {

using decide_internal::ActivityCache;
using decide_internal::Bucket;
using decide_internal::FlowCache;
using decide_internal::HasFailures;

std::shared_ptr<FlowCache> NewFlowCache(const Flow& flow, const std::string& run_id) {
  auto cache = std::make_shared<FlowCache>();
  cache->flow = &flow;
  cache->run_id = run_id;
  const auto& activities = flow.activities();
  cache->activities.resize(activities.size());
  std::map<const Activity*, std::size_t> index;
  for (std::size_t i = 0; i < activities.size(); ++i) index.emplace(activities[i].get(), i);
  for (std::size_t i = 0; i < activities.size(); ++i) {
    std::set<std::size_t> required;
    for (const Activity* r : activities[i]->requires_activities()) {
      auto it = index.find(r);
      if (it == index.end()) {
        throw std::invalid_argument("activity " + activities[i]->short_name() +
                                    " requires an activity of another flow");
      }
      required.insert(it->second);
    }
    cache->activities[i].unmet = required.size();
    for (std::size_t r : required) cache->activities[r].dependents.push_back(i);
    if (required.empty()) cache->ready.insert(i);
  }
  return cache;
}

// Makes `cache` the cache of a slice's run (`input` holds kSliceKey): the
// slice's activity is ready at once, every other counts as complete and
// nothing depends on anything.
void MakeSliceCache(FlowCache& cache, const Flow& flow, const Context& input) {
  const Json& slice = input[kSliceKey];
  if (!slice.is_object() || !slice.contains("values") || !slice["values"].is_array() ||
      !slice.contains("activity") || !slice["activity"].is_string()) {
    throw WorkflowFailure{std::string("this run's input holds a malformed ") + kSliceKey +
                              " (an object with activity and values)",
                          ""};
  }
  const std::string name = slice["activity"].get<std::string>();
  const auto& activities = flow.activities();
  std::size_t target = activities.size();
  for (std::size_t i = 0; i < activities.size(); ++i) {
    if (activities[i]->name() == name) target = i;
  }
  if (target == activities.size()) {
    throw WorkflowFailure{"this run is a slice of activity " + name + ", which version " +
                              flow.version() + " of " + flow.name() + " does not have",
                          ""};
  }
  cache.slice = true;
  cache.slice_values = slice["values"];
  cache.slice_count = slice.contains("count") && slice["count"].is_number_unsigned()
                          ? slice["count"].get<std::size_t>()
                          : cache.slice_values.size();
  cache.parent_workflow_id = StringAt(slice, "workflowId");
  cache.parent_run_id = StringAt(slice, "runId");
  Context context = input;
  context.erase(kSliceKey);
  cache.slice_context = std::make_shared<const Context>(std::move(context));
  cache.ready.clear();
  cache.active.clear();
  cache.completed = 0;
  for (std::size_t i = 0; i < cache.activities.size(); ++i) {
    ActivityCache& a = cache.activities[i];
    a.dependents.clear();
    a.unmet = 0;
    if (i == target) {
      cache.ready.insert(i);
    } else {
      a.evaluated = a.complete = true;
      ++cache.completed;
    }
  }
}

// The flow decider's view of one run, over its cache.
class FlowDecision {
 public:
  FlowDecision(Builder& b, FlowCache& cache) : b_(b), c_(cache) {}

  std::vector<Json> Run() {
    if (c_.slice && !c_.parent_workflow_id.empty()) {
      b_.NameRunInInputs(c_.parent_workflow_id, c_.parent_run_id);
    }
    CatchUp();
    for (std::size_t i : std::set<std::size_t>(c_.active)) Settle(i);
    EvaluateReady();

    bool open = false;
    for (std::size_t i : c_.ready) {
      // Its requirements are complete: it waits for its signal.
      (void)i;
      open = true;
    }
    for (std::size_t i : c_.active) open = ScheduleSome(i) || open;

    const bool incomplete = c_.completed < c_.activities.size();
    if (incomplete && !open && b_.empty()) {
      // Nothing runs and nothing can start: only circular requirements do this.
      std::string names;
      for (std::size_t i = 0; i < c_.activities.size(); ++i) {
        const ActivityCache& a = c_.activities[i];
        if (a.evaluated || a.unmet == 0) continue;
        names += (names.empty() ? "" : ", ") + b_.flow_.activities()[i]->short_name();
      }
      throw WorkflowFailure{"no activity can start: the requirements of " + names +
                                " can never be met (circular requirements)",
                            ""};
    }
    if (incomplete) return b_.Take();
    if (c_.slice) {
      const Context result = SliceResult();
      return b_.Complete(&result);
    }
    return b_.Complete(ContextNow().get());
  }

 private:
  const Activity& ActivityAt(std::size_t i) const { return *b_.flow_.activities()[i]; }

  // A slice's result: its instances' results merged in the slice's order,
  // and those it gave up listed under kSliceFailedKey for the parent.
  Context SliceResult() const {
    Context result = Context::object();
    Json failed = Json::array();
    for (const ActivityCache& a : c_.activities) {
      for (std::size_t j = 0; j < a.slots.size(); ++j) {
        const ActivityRecord* r = b_.state_.Find(a.slots[j].id);
        if (r != nullptr && r->status == ActivityRecord::Status::kCompleted) result.update(r->result);
      }
      for (const auto& entry : a.given_up) failed.push_back(entry.second.entry);
    }
    if (!failed.empty()) result[kSliceFailedKey] = std::move(failed);
    return result;
  }

  // What the slice whose record `r` completed gave up (kSliceFailedKey).
  static std::vector<decide_internal::GivenUp> SliceGivenUp(const ActivityRecord& r) {
    std::vector<decide_internal::GivenUp> out;
    if (!r.result.is_object() || !r.result.contains(kSliceFailedKey)) return out;
    const Json& list = r.result[kSliceFailedKey];
    if (!list.is_array()) return out;
    for (const Json& entry : list) {
      if (!entry.is_object()) continue;
      std::string reason = StringAt(entry, "reason");
      if (reason.empty()) reason = "failed";
      out.push_back(decide_internal::GivenUp{entry, std::move(reason)});
    }
    return out;
  }

  // The records changed since the last decision move their instances.
  void CatchUp() {
    const std::vector<std::string>& changes = b_.state_.changes();
    for (; c_.seen < changes.size(); ++c_.seen) {
      auto it = c_.by_id.find(changes[c_.seen]);
      if (it == c_.by_id.end()) continue;
      Classify(it->second.first, it->second.second);
    }
  }

  // Puts slot `j` of activity `i` in the bucket its record says.
  void Classify(std::size_t i, std::size_t j) {
    ActivityCache& a = c_.activities[i];
    decide_internal::Slot& slot = a.slots[j];
    switch (slot.bucket) {
      case Bucket::kTodo:
        a.todo.erase(j);
        a.failed.erase(j);
        break;
      case Bucket::kOpen:
        --a.open;
        break;
      case Bucket::kDone:
      case Bucket::kGivenUp: {
        const bool had = HasFailures(a);
        bool dropped = a.given_up.erase(j) > 0;
        if (auto it = a.slice_given_up.find(j); it != a.slice_given_up.end()) {
          a.slice_given_up_count -= it->second.size();
          a.slice_given_up.erase(it);
          dropped = true;
        }
        if (dropped) {
          if (had && !HasFailures(a)) --c_.with_failures;
          failures_.reset();
        }
        break;
      }
    }
    const ActivityRecord* r = b_.state_.Find(slot.id);
    if (r != nullptr && r->status == ActivityRecord::Status::kCompleted) {
      slot.bucket = Bucket::kDone;
      if (a.sliced) {
        std::vector<decide_internal::GivenUp> given_up = SliceGivenUp(*r);
        if (!given_up.empty()) {
          if (!HasFailures(a)) ++c_.with_failures;
          a.slice_given_up_count += given_up.size();
          a.slice_given_up[j] = std::move(given_up);
          failures_.reset();
        }
      }
      return;
    }
    if (r != nullptr && r->status == ActivityRecord::Status::kScheduled) {
      slot.bucket = Bucket::kOpen;
      ++a.open;
    } else {
      slot.bucket = Bucket::kTodo;
      a.todo.insert(j);
      if (r != nullptr) a.failed.insert(j);
    }
    if (a.complete) Reopen(i);
  }

  // An activity counted complete has an instance going again (a history
  // that schedules a completed instance again): its dependents wait again.
  void Reopen(std::size_t i) {
    ActivityCache& a = c_.activities[i];
    a.complete = false;
    --c_.completed;
    c_.active.insert(i);
    for (std::size_t d : a.dependents) {
      if (c_.activities[d].unmet++ == 0) c_.ready.erase(d);
    }
  }

  // Judges the failed instances of activity `i` (those given up move out of
  // its todo), fails the run past its allowance, and marks it complete once
  // every instance completed or was given up.
  void Settle(std::size_t i) {
    ActivityCache& a = c_.activities[i];
    const Activity& activity = ActivityAt(i);
    for (auto it = a.failed.begin(); it != a.failed.end();) {
      const std::size_t j = *it;
      decide_internal::Slot& slot = a.slots[j];
      const ActivityRecord* r = b_.state_.Find(slot.id);
      // A slice's run that failed as a whole (timed out, terminated, failed
      // by its decider) is not run again: its completed instances would run
      // twice. Its instances are given up, counted against the allowance.
      const Verdict v =
          a.sliced ? Verdict{Verdict::Kind::kGiveUp, 0,
                             r->last_reason.empty() ? std::string("failed") : r->last_reason}
                   : b_.Judge(slot.id, *r, activity.retry_policy());
      if (v.kind != Verdict::Kind::kGiveUp) {
        ++it;
        continue;
      }
      it = a.failed.erase(it);
      a.todo.erase(j);
      slot.bucket = Bucket::kGivenUp;
      if (!HasFailures(a)) ++c_.with_failures;
      failures_.reset();
      if (a.sliced) {
        GiveUpSlice(i, j, *r, v.reason);
        continue;
      }
      a.given_up[j] = decide_internal::GivenUp{Json{{"activityId", slot.id},
                                                    {"values", slot.local},
                                                    {"attempts", r->failures},
                                                    {"reason", v.reason},
                                                    {"details", r->last_details}},
                                               v.reason};
    }
    // A slice's run gives up what it must and lists it: its parent judges
    // the whole fan-out's failures against the allowance.
    const std::size_t given_up = a.given_up.size() + a.slice_given_up_count;
    if (given_up > 0 && !c_.slice) {
      const std::size_t allowed = activity.AllowedFailures(a.count);
      if (given_up > allowed) {
        WorkflowFailure failure;
        if (!a.given_up.empty()) {
          const std::size_t j = a.given_up.rbegin()->first;
          const decide_internal::Slot& slot = a.slots[j];
          failure = InstanceFailure(activity, slot.local, slot.id, *b_.state_.Find(slot.id),
                                    a.given_up.rbegin()->second.reason);
        } else {
          failure = InstanceFailure(activity, a.slice_given_up.rbegin()->second.back().entry);
        }
        if (allowed > 0) {
          failure.reason = limits::CutToCharacters(
              failure.reason + " (" + std::to_string(given_up) + " of " +
                  std::to_string(a.count) + " instances failed; " + std::to_string(allowed) +
                  " allowed)",
              limits::kMaxReasonCharacters);
        }
        throw failure;
      }
    }
    if (a.complete || !a.todo.empty() || a.open > 0) return;
    a.complete = true;
    ++c_.completed;
    c_.active.erase(i);
    for (std::size_t d : a.dependents) {
      if (--c_.activities[d].unmet == 0 && !c_.activities[d].evaluated) c_.ready.insert(d);
    }
  }

  // Slice `j` of activity `i` failed as a whole: each of its instances is
  // given up, with the slice's reason.
  void GiveUpSlice(std::size_t i, std::size_t j, const ActivityRecord& r,
                   const std::string& reason) {
    ActivityCache& a = c_.activities[i];
    const Activity& activity = ActivityAt(i);
    const std::string why = "slice " + std::to_string(j + 1) + " of " +
                            std::to_string(a.slots.size()) + ": " + reason;
    std::vector<decide_internal::GivenUp> entries;
    entries.reserve(a.slice_values[j].size());
    for (const Json& values : a.slice_values[j]) {
      const ActivityInstance instance(&activity, values, a.slice_base, a.count);
      entries.push_back(decide_internal::GivenUp{Json{{"activityId", instance.id()},
                                                      {"values", values},
                                                      {"attempts", r.failures},
                                                      {"reason", why},
                                                      {"details", r.last_details}},
                                                 why});
    }
    a.slice_given_up_count += entries.size();
    a.slice_given_up[j] = std::move(entries);
  }

  // Computes the instances of the activities whose requirements are
  // complete (and whose signal came), in declaration order, until none is
  // left (an activity of no instances is complete at once, which may make
  // others ready).
  void EvaluateReady() {
    for (bool progressed = true; progressed;) {
      progressed = false;
      for (std::size_t i : std::set<std::size_t>(c_.ready)) {
        const Activity& activity = ActivityAt(i);
        // (A slice's run: its parent waited.)
        if (!c_.slice && !activity.awaited_signal().empty() &&
            !b_.state_.signals().contains(activity.awaited_signal())) {
          continue;
        }
        Evaluate(i);
        progressed = true;
      }
    }
  }

  void Evaluate(std::size_t i) {
    ActivityCache& a = c_.activities[i];
    const Activity& activity = ActivityAt(i);
    std::vector<ActivityInstance> instances;
    if (c_.slice) {
      instances.reserve(c_.slice_values.size());
      for (const Json& local : c_.slice_values) {
        instances.emplace_back(&activity, local, c_.slice_context, c_.slice_count);
      }
      a.count = c_.slice_count;
    } else {
      instances = activity.Instances(ContextNow());
      a.count = instances.size();
    }
    // The same values twice are one instance.
    std::vector<const ActivityInstance*> unique;
    if (!c_.slice && instances.size() > kInstancesPerSlice) {
      std::unordered_set<std::string_view> seen;  // views of the instances' ids
      seen.reserve(instances.size());
      for (const auto& inst : instances) {
        if (seen.insert(inst.id()).second) unique.push_back(&inst);
      }
    }
    if (unique.size() > kInstancesPerSlice) {
      // A run whose fan-out began instance by instance (decided before
      // slices existed) goes on that way.
      for (const ActivityInstance* inst : unique) {
        if (b_.state_.Find(inst->id()) != nullptr) {
          unique.clear();
          break;
        }
      }
    }
    if (unique.size() > kInstancesPerSlice) {
      // Past what one run holds: slices of kInstancesPerSlice, each a child
      // run (docs/design.md, "Fan-outs").
      a.sliced = true;
      a.slice_base = std::make_shared<const Context>(*ContextNow());
      const std::size_t slices = (unique.size() + kInstancesPerSlice - 1) / kInstancesPerSlice;
      a.slice_values.assign(slices, Json::array());
      for (std::size_t k = 0; k < unique.size(); ++k) {
        a.slice_values[k / kInstancesPerSlice].push_back(unique[k]->local_context());
      }
      for (std::size_t k = 0; k < slices; ++k) {
        std::string id = activity.name() + "-slice-" + std::to_string(k + 1);
        if (!c_.by_id.try_emplace(id, i, a.slots.size()).second) {
          throw WorkflowFailure{"the slice " + id + " of " + activity.short_name() +
                                    " has the id of another activity's instance: rename "
                                    "the activity whose name ends in -slice",
                                ""};
        }
        a.slots.push_back(decide_internal::Slot{
            Context{{"slice", k + 1}, {"of", slices}}, std::move(id), Bucket::kDone});
      }
    } else {
      a.slots.reserve(instances.size());
      c_.by_id.reserve(c_.by_id.size() + instances.size());
      for (const auto& inst : instances) {
        const std::string& id = inst.id();
        if (!c_.by_id.try_emplace(id, i, a.slots.size()).second) continue;
        a.slots.push_back(decide_internal::Slot{inst.local_context(), id, Bucket::kDone});
      }
    }
    a.evaluated = true;
    c_.ready.erase(i);
    c_.active.insert(i);
    for (std::size_t j = 0; j < a.slots.size(); ++j) {
      a.slots[j].bucket = Bucket::kDone;
      Classify(i, j);
    }
    Settle(i);
  }

  // Schedules what it may of activity `i`'s todo instances, in order;
  // returns whether some of its instances are open or waiting (for room,
  // a backoff, a delay).
  bool ScheduleSome(std::size_t i) {
    ActivityCache& a = c_.activities[i];
    const Activity& activity = ActivityAt(i);
    bool open = a.open > 0;
    std::size_t running = a.open;
    std::size_t max = static_cast<std::size_t>(std::max(0, activity.max_concurrent()));
    // Slices: as many at once as MaxConcurrent holds whole ones (each runs
    // up to MaxConcurrent instances itself), at least one; without it,
    // kSlicesAtOnce.
    if (a.sliced) max = max > 0 ? std::max<std::size_t>(1, max / kInstancesPerSlice) : kSlicesAtOnce;
    // The delay of After was waited by the parent of a slice's run.
    std::optional<bool> gate_open;  // asked once, when an instance is to be scheduled
    if (c_.slice) gate_open = true;
    for (std::size_t j : a.todo) {
      const decide_internal::Slot& slot = a.slots[j];
      // At SWF's open limit, or at its MaxConcurrent: scheduled as others close.
      if (!(a.sliced ? b_.RoomForChild() : b_.Room(activity)) || (max > 0 && running >= max)) {
        return true;
      }
      if (a.failed.contains(j) &&
          !b_.ReadyToRetry(activity, slot.local, slot.id, *b_.state_.Find(slot.id))) {
        open = true;  // waiting for its backoff timer
        continue;
      }
      if (!gate_open) gate_open = b_.GateOpen(activity);
      if (!*gate_open) return true;  // waiting for its delay
      if (a.sliced) {
        Context input = *a.slice_base;
        input[kSliceKey] = {{"activity", activity.name()},
                            {"workflowId", b_.run_.workflow_id},
                            {"runId", b_.run_.run_id},
                            {"slice", j + 1},
                            {"slices", a.slots.size()},
                            {"count", a.count},
                            {"values", a.slice_values[j]}};
        b_.ScheduleSlice(slot.id, input);
      } else {
        b_.ScheduleInstance(ActivityInstance(&activity, slot.local, ContextNow(), a.count),
                            slot.id);
      }
      ++running;
    }
    return open;
  }

  // The context later activities see: the state's, plus `{short name}.failed`
  // of the activities with instances given up. Built at most once per
  // decision, and only when asked for.
  std::shared_ptr<const Context> ContextNow() {
    if (c_.slice) return c_.slice_context;
    if (c_.with_failures == 0) {
      // Not a copy: the state outlives this decision (a fan-out's context
      // holds every result so far).
      return std::shared_ptr<const garcon::Context>(std::shared_ptr<const garcon::Context>(),
                                                    &b_.state_.context());
    }
    if (!failures_) {
      garcon::Context with_failures = b_.state_.context();
      for (std::size_t i = 0; i < c_.activities.size(); ++i) {
        const ActivityCache& a = c_.activities[i];
        if (!HasFailures(a)) continue;
        Json list = Json::array();
        for (const auto& entry : a.given_up) list.push_back(entry.second.entry);
        for (const auto& slice : a.slice_given_up) {
          for (const auto& entry : slice.second) list.push_back(entry.entry);
        }
        with_failures[ActivityAt(i).short_name() + ".failed"] = std::move(list);
      }
      failures_ = std::make_shared<const garcon::Context>(std::move(with_failures));
    }
    return failures_;
  }

  Builder& b_;
  FlowCache& c_;
  std::shared_ptr<const garcon::Context> failures_;
};

// The derived flow decider: over the state's cache, made (or made again) for
// this flow and run when missing.
std::vector<Json> DecideFlow(Builder& b) {
  FlowCache* cache = b.state_.flow_cache();
  if (cache == nullptr || cache->flow != &b.flow_ || cache->run_id != b.run_.run_id) {
    std::shared_ptr<FlowCache> fresh = NewFlowCache(b.flow_, b.run_.run_id);
    const Context& input = b.state_.input();
    if (input.is_object() && input.contains(kSliceKey)) MakeSliceCache(*fresh, b.flow_, input);
    b.state_.set_flow_cache(std::move(fresh));
    cache = b.state_.flow_cache();
  }
  return FlowDecision(b, *cache).Run();
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
      if (r && !b_.ReadyToRetry(activity, inst.local_context(), activity_id, *r)) continue;
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
    const bool slice_run = state.input().is_object() && state.input().contains(kSliceKey);
    if (state.decisions_completed() == 0 && !state.graph_recorded() && !slice_run) {
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
