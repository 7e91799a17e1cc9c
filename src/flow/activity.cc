#include <algorithm>
#include <cstdint>
#include <optional>
#include <set>
#include <stdexcept>

#include "flow/instance_id.h"
#include "garcon/flow.h"

namespace garcon {

ActivityInstance::ActivityInstance(const garcon::Activity* activity, Context local_context,
                                   std::shared_ptr<const Context> global_context,
                                   std::size_t instance_count)
    : activity_(activity),
      local_context_(std::move(local_context)),
      global_context_(std::move(global_context)),
      instance_count_(instance_count) {}

Context ActivityInstance::MergedContext() const {
  Context merged = global_context_ && global_context_->is_object() ? *global_context_
                                                                    : Context::object();
  if (local_context_.is_object()) merged.update(local_context_);
  return merged;
}

const std::string& ActivityInstance::id() const {
  if (id_.empty()) {
    id_ = !local_context_.is_object() || local_context_.empty()
              ? activity_->name() + "-1"
              : activity_->name() + "-" + flow::DictionaryKey(local_context_);
  }
  return id_;
}

// The timeouts depend on the context only through task lists: without any,
// the context (a fan-out's holds every result so far) is not merged.
int ActivityInstance::Timeout() const {
  const Runner& runner = activity_->runner();
  return runner.has_task_lists() ? runner.Timeout(MergedContext())
                                 : runner.Timeout(Context::object());
}

int ActivityInstance::Heartbeat() const {
  const Runner& runner = activity_->runner();
  return runner.has_task_lists() ? runner.Heartbeat(MergedContext())
                                 : runner.Heartbeat(Context::object());
}

// SWF's durations are at most 8 digits of seconds: the pessimistic
// schedule-to-start of a very large fan-out (100,000 instances x 600 s
// fits; 10 million would not) is held there, never overflowing an int.
constexpr std::int64_t kMaxDurationSeconds = 99999999;

int ActivityInstance::ScheduleToStart() const {
  const std::int64_t seconds = static_cast<std::int64_t>(std::min<std::size_t>(
                                   instance_count_, kMaxDurationSeconds)) *
                               activity_->schedule_to_start();
  return static_cast<int>(std::min(seconds, kMaxDurationSeconds));
}

int ActivityInstance::ScheduleToClose() const {
  return static_cast<int>(std::min<std::int64_t>(
      static_cast<std::int64_t>(ScheduleToStart()) + Timeout(), kMaxDurationSeconds));
}

Context ActivityInstance::Input(std::string_view domain, std::string_view workflow_id,
                                std::string_view run_id) const {
  // The declared keys are looked up where they are (the local context wins)
  // without copying the whole context: a fan-out's context holds every
  // result so far, and each instance of it is scheduled with a few keys.
  const Runner& runner = activity_->runner();
  if (runner.has_task_lists()) {
    // Task lists are functions of the context: they need it merged.
    Context merged = MergedContext();
    auto requirements = runner.Requirements(merged);
    if (!requirements) return merged;
    Context input = Context::object();
    for (const auto& key : *requirements) {
      auto it = merged.find(key);
      if (it != merged.end() && !it->is_null()) input[key] = *it;
    }
    input["execution.domain"] = domain;
    input["execution.workflow_id"] = workflow_id;
    input["execution.run_id"] = run_id;
    return input;
  }
  const auto requirements = runner.Requirements(Context::object());
  if (!requirements) return MergedContext();
  Context input = Context::object();
  const Context* global = global_context_ && global_context_->is_object() ? global_context_.get()
                                                                           : nullptr;
  for (const auto& key : *requirements) {
    auto local = local_context_.find(key);
    if (local != local_context_.end()) {
      if (!local->is_null()) input[key] = *local;
      continue;
    }
    if (global == nullptr) continue;
    auto it = global->find(key);
    if (it != global->end() && !it->is_null()) input[key] = *it;
  }
  input["execution.domain"] = domain;
  input["execution.workflow_id"] = workflow_id;
  input["execution.run_id"] = run_id;
  return input;
}

Activity::Activity(const Flow* flow, std::string name)
    : flow_(flow),
      name_(std::move(name)),
      full_name_(flow->name() + "_" + name_),
      task_list_(full_name_ + "@" + flow->version()) {}

Activity& Activity::Requires(std::vector<const Activity*> activities) {
  for (const auto* a : activities) {
    if (a == nullptr) throw DeclarationError("Requires: null activity");
    // Itself or another flow's activity: reported by Flow::Validate.
  }
  requires_ = std::move(activities);
  return *this;
}

Activity& Activity::Run(Runner runner) {
  if (const Flow* child = runner.child_flow()) {
    if (child->domain() != flow_->domain()) {
      throw DeclarationError("Run(Child): the child flow " + child->name() +
                                  " must be in the parent's domain " + flow_->domain());
    }
  }
  runner_ = std::move(runner);
  return *this;
}

Activity& Activity::Retry(int retries) {
  if (retries < 0) throw DeclarationError("Retry: must be >= 0");
  retry_.retries = retries;
  return *this;
}

Activity& Activity::Retry(RetryPolicy policy) {
  using std::chrono::seconds;
  if (policy.retries < 0) throw DeclarationError("Retry: retries must be >= 0");
  if (policy.initial_interval < seconds(0) || policy.maximum_interval < seconds(0) ||
      policy.budget < seconds(0)) {
    throw DeclarationError("Retry: intervals and budget must be >= 0");
  }
  if (!(policy.multiplier >= 1.0) || policy.multiplier > 1e6) {
    throw DeclarationError("Retry: multiplier must be 1 to 1e6");
  }
  if (!(policy.jitter >= 0.0 && policy.jitter <= 1.0)) {
    throw DeclarationError("Retry: jitter must be 0 to 1");
  }
  if (policy.maximum_interval > seconds(0) && policy.maximum_interval < policy.initial_interval) {
    throw DeclarationError("Retry: maximum_interval must be >= initial_interval");
  }
  retry_ = std::move(policy);
  return *this;
}

Activity& Activity::Generator(GeneratorFn generator) {
  generators_.push_back(std::move(generator));
  return *this;
}

Activity& Activity::ScheduleToStart(int seconds) {
  if (seconds <= 0) throw DeclarationError("ScheduleToStart: must be > 0 seconds");
  schedule_to_start_ = seconds;
  return *this;
}

Activity& Activity::OnException(ExceptionHandler handler) {
  on_exception_ = std::move(handler);
  return *this;
}

Activity& Activity::External(int timeout, std::optional<int> heartbeat) {
  return Run(garcon::External(timeout, heartbeat));
}

Activity& Activity::After(std::chrono::seconds delay) {
  if (delay < std::chrono::seconds(0) || delay > std::chrono::hours(24 * 365)) {
    throw DeclarationError("After: 0 s to 1 year");
  }
  if (delay > std::chrono::seconds(0) && name_.size() > 250) {
    // Its timer id is `after-{name}`: SWF allows 256 characters.
    throw DeclarationError("After: the activity name must be at most 250 characters");
  }
  delay_ = delay;
  return *this;
}

Activity& Activity::AwaitSignal(std::string name) {
  if (name.empty() || name.size() > 256) {
    throw DeclarationError("AwaitSignal: a signal name is 1 to 256 characters");
  }
  signal_ = std::move(name);
  return *this;
}

Activity& Activity::AllowFailures(int count) {
  if (count < 0) throw DeclarationError("AllowFailures: a count must be >= 0");
  allowed_count_ = count;
  return *this;
}

Activity& Activity::AllowFailures(double fraction) {
  if (!(fraction >= 0.0 && fraction <= 1.0)) {
    throw DeclarationError("AllowFailures: a fraction must be 0 to 1");
  }
  allowed_count_.reset();
  allowed_fraction_ = fraction;
  return *this;
}

Activity& Activity::Optional() { return AllowFailures(1.0); }

Activity& Activity::MaxConcurrent(int n) {
  if (n < 1) throw DeclarationError("MaxConcurrent: n must be >= 1");
  max_concurrent_ = n;
  return *this;
}

std::size_t Activity::AllowedFailures(std::size_t instances) const {
  if (allowed_count_) return static_cast<std::size_t>(*allowed_count_);
  // A whole number of instances, rounding down: 0.1 of 25 allows 2.
  return static_cast<std::size_t>(allowed_fraction_ * static_cast<double>(instances) + 1e-9);
}

const ExceptionHandler& Activity::exception_handler() const {
  return on_exception_ ? on_exception_ : flow_->exception_handler();
}

std::vector<ActivityInstance> Activity::Instances(const Context& context) const {
  return Instances(std::make_shared<const Context>(context));
}

std::vector<ActivityInstance> Activity::Instances(std::shared_ptr<const Context> context) const {
  // Cartesian product of the generators' outputs; each combination's local
  // context is the merge of its parts.
  std::vector<Context> combinations{Context::object()};
  for (const auto& generator : generators_) {
    std::vector<Context> values = generator(*context);
    std::vector<Context> next;
    next.reserve(combinations.size() * values.size());
    for (const auto& base : combinations) {
      for (const auto& v : values) {
        Context merged = base;
        if (v.is_object()) merged.update(v);
        next.push_back(std::move(merged));
      }
    }
    combinations = std::move(next);
  }
  std::vector<ActivityInstance> instances;
  instances.reserve(combinations.size());
  for (auto& local : combinations) {
    instances.emplace_back(this, std::move(local), context, combinations.size());
  }
  return instances;
}

}  // namespace garcon
