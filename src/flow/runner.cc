#include "garcon/runner.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <stdexcept>
#include <thread>
#include <utility>

namespace garcon {

Runner Runner::MakeExternal(int timeout, std::optional<int> heartbeat) {
  if (timeout <= 0) throw DeclarationError("External: timeout must be > 0 seconds");
  if (heartbeat && *heartbeat <= 0) {
    throw DeclarationError("External: heartbeat must be > 0 seconds");
  }
  Runner r(Kind::kExternal, {});
  r.external_timeout_ = timeout;
  r.external_heartbeat_ = heartbeat.value_or(timeout);
  return r;
}

Runner Runner::MakeChild(const Flow& flow, ChildPolicy policy) {
  Runner r(Kind::kChild, {});
  r.child_flow_ = &flow;
  r.child_policy_ = policy;
  return r;
}

Runner Child(const Flow& flow, ChildPolicy policy) { return Runner::MakeChild(flow, policy); }

Runner External(int timeout, std::optional<int> heartbeat) {
  return Runner::MakeExternal(timeout, heartbeat);
}

Runner& Runner::MaxWorkers(int n) {
  if (kind_ != Kind::kAsync) throw DeclarationError("MaxWorkers applies to Async runners only");
  if (n < 1) throw DeclarationError("MaxWorkers: n must be >= 1");
  max_workers_ = n;
  return *this;
}

bool Runner::has_task_lists() const {
  return std::any_of(items_.begin(), items_.end(),
                     [](const TaskItem& item) { return std::holds_alternative<TaskList>(item); });
}

std::vector<Task> Runner::Tasks(const Context& context) const {
  std::vector<Task> tasks;
  for (const auto& item : items_) {
    if (const Task* task = std::get_if<Task>(&item)) {
      tasks.push_back(*task);
    } else {
      for (auto& t : std::get<TaskList>(item)(context)) tasks.push_back(std::move(t));
    }
  }
  return tasks;
}

namespace {

// Calls `visit` with each task for `context`, task lists flattened, without
// copying the declared tasks (the decider asks this for every instance it
// schedules); stops when `visit` returns false.
template <typename Visit>
void VisitTasks(const std::vector<TaskItem>& items, const Context& context, Visit visit) {
  for (const auto& item : items) {
    if (const Task* task = std::get_if<Task>(&item)) {
      if (!visit(*task)) return;
      continue;
    }
    for (const auto& t : std::get<TaskList>(item)(context)) {
      if (!visit(t)) return;
    }
  }
}

}  // namespace

int Runner::Timeout(const Context& context) const {
  if (external()) return external_timeout_;
  if (child()) return 0;  // the child flow's own execution timeout applies
  int total = 0;
  VisitTasks(items_, context, [&total](const Task& task) {
    total += task.timeout().value_or(kDefaultTaskTimeout);
    return true;
  });
  return total;
}

int Runner::Heartbeat(const Context& context) const {
  if (external()) return external_heartbeat_;
  if (child()) return 0;
  int largest = 0;
  VisitTasks(items_, context, [&largest](const Task& task) {
    largest = std::max(largest, task.heartbeat().value_or(kDefaultTaskHeartbeat));
    return true;
  });
  return largest;
}

std::optional<std::set<std::string>> Runner::Requirements(const Context& context) const {
  if (external() || child()) return std::nullopt;  // the whole context
  std::optional<std::set<std::string>> keys(std::in_place);
  VisitTasks(items_, context, [&keys](const Task& task) {
    auto required = task.Requirements();
    if (!required) {
      keys.reset();
      return false;
    }
    keys->insert(required->begin(), required->end());
    return true;
  });
  return keys;
}

namespace {

Context RunSync(const std::vector<Task>& tasks, ActivityExecution& activity,
                const Context& context) {
  Context result = Context::object();
  Context task_context = context.is_object() ? context : Context::object();
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    const Task& task = tasks[i];
    // The heartbeat before each task is where a cancellation request is
    // learned: the remaining tasks do not start.
    if (activity.Heartbeat()) {
      throw ActivityCanceled("canceled after " + std::to_string(i) + " of " +
                             std::to_string(tasks.size()) + " tasks");
    }
    Context out = task(activity, task_context);
    result.update(out);
    task_context.update(out);
  }
  return result;
}

Context RunAsync(const std::vector<Task>& tasks, int max_workers, ActivityExecution& activity,
                 const Context& context) {
  std::vector<Context> results(tasks.size());
  std::vector<std::exception_ptr> errors(tasks.size());
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    for (std::size_t i = next++; i < tasks.size(); i = next++) {
      // Once cancellation is requested, tasks not started yet never start.
      if (activity.cancel_requested()) {
        errors[i] = std::make_exception_ptr(ActivityCanceled("canceled before task " +
                                                             std::to_string(i + 1) + " of " +
                                                             std::to_string(tasks.size())));
        continue;
      }
      try {
        results[i] = tasks[i](activity, context);
      } catch (...) {
        errors[i] = std::current_exception();
      }
      activity.Heartbeat();
    }
  };
  const auto threads =
      std::min<std::size_t>(tasks.size(), static_cast<std::size_t>(std::max(1, max_workers)));
  {
    std::vector<std::jthread> pool;
    for (std::size_t t = 1; t < threads; ++t) pool.emplace_back(work);
    work();
  }
  for (const auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }
  Context merged = Context::object();
  for (const auto& r : results) merged.update(r);
  return merged;
}

}  // namespace

Context Runner::Execute(ActivityExecution& activity, const Context& context) const {
  switch (kind_) {
    case Kind::kSync:
      return RunSync(Tasks(context), activity, context);
    case Kind::kAsync:
      return RunAsync(Tasks(context), max_workers_, activity, context);
    case Kind::kExternal:
      break;
    case Kind::kChild:
      throw std::logic_error("a Child activity is run as a child workflow, not by a worker");
  }
  throw std::logic_error("an External activity is run by a worker outside the flow");
}

}  // namespace garcon
