// Runners: how an activity runs its tasks. Sync runs them in order, Async on
// a pool of threads, External not at all (a worker outside the flow, in any
// language, runs the activity), Child as another flow: a child workflow with
// its own decider and workers.
#pragma once

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "garcon/task.h"

namespace garcon {

class Flow;

// What happens to a child run when its parent closes first (SWF's child
// policy).
enum class ChildPolicy { kTerminate, kRequestCancel, kAbandon };

// One element of a runner: a task, or a function of the context yielding
// tasks.
using TaskItem = std::variant<Task, TaskList>;

class Runner {
 public:
  enum class Kind { kSync, kAsync, kExternal, kChild };

  // An empty Sync runner.
  Runner() = default;
  Runner(Kind kind, std::vector<TaskItem> items) : kind_(kind), items_(std::move(items)) {}
  static Runner MakeExternal(int timeout, std::optional<int> heartbeat);
  static Runner MakeChild(const Flow& flow, ChildPolicy policy);

  Kind kind() const { return kind_; }
  bool external() const { return kind_ == Kind::kExternal; }
  bool child() const { return kind_ == Kind::kChild; }
  // Whether some of its tasks come from TaskLists (functions of the context).
  bool has_task_lists() const;
  // Child only: the flow run as a child workflow, and its child policy.
  const Flow* child_flow() const { return child_flow_; }
  ChildPolicy child_policy() const { return child_policy_; }

  // Async only: the number of threads running tasks at once (default 3).
  // Throws DeclarationError on other runners or when n < 1.
  Runner& MaxWorkers(int n);
  int max_workers() const { return max_workers_; }

  // The tasks and task lists, as declared.
  const std::vector<TaskItem>& items() const { return items_; }

  // The tasks for this context, task lists flattened one level.
  std::vector<Task> Tasks(const Context& context) const;

  // Start-to-close timeout in seconds: the sum of the tasks' timeouts (600
  // for a task that declares none), pessimistic even for Async. An empty
  // runner: 0. External: its declared timeout.
  int Timeout(const Context& context) const;
  // Heartbeat timeout in seconds: the largest of the tasks' heartbeats (600
  // for a task that declares none). An empty runner: 0. External: its
  // declared heartbeat.
  int Heartbeat(const Context& context) const;
  // The context keys the tasks read, or nullopt when any task reads the whole
  // context without declaring its keys.
  std::optional<std::set<std::string>> Requirements(const Context& context) const;

  // Runs the tasks and returns their merged results.
  // Sync: in order; heartbeat before each task; each task sees the context
  // merged with the earlier tasks' results.
  // Async: all tasks see `context`; up to max_workers at once; heartbeat after
  // each completes. When tasks fail, the others still finish and the first
  // failure (in task order) is rethrown.
  // External: throws std::logic_error (it never runs locally).
  Context Execute(ActivityExecution& activity, const Context& context) const;

 private:
  Kind kind_ = Kind::kSync;
  std::vector<TaskItem> items_;
  int max_workers_ = 3;
  int external_timeout_ = 0;
  int external_heartbeat_ = 0;
  const Flow* child_flow_ = nullptr;
  ChildPolicy child_policy_ = ChildPolicy::kTerminate;
};

namespace detail {
inline TaskItem ToTaskItem(TaskList list) { return list; }
inline TaskItem ToTaskItem(Task task) { return task; }
template <typename F>
TaskItem ToTaskItem(F&& fn) {
  return Task(std::forward<F>(fn));
}
}  // namespace detail

// Runs the tasks in order. Accepts Tasks, TaskLists and task callables.
template <typename... T>
Runner Sync(T&&... items) {
  return Runner(Runner::Kind::kSync, {detail::ToTaskItem(std::forward<T>(items))...});
}

// Runs the tasks in parallel, on up to MaxWorkers(n) threads (default 3).
template <typename... T>
Runner Async(T&&... items) {
  return Runner(Runner::Kind::kAsync, {detail::ToTaskItem(std::forward<T>(items))...});
}

// An activity run outside the flow: only scheduled by it. `timeout` is
// mandatory; the heartbeat timeout defaults to it.
Runner External(int timeout, std::optional<int> heartbeat = std::nullopt);

// Runs another flow as a child workflow (SWF StartChildWorkflowExecution) for
// each instance: its input is the instance's input, its result (the child's
// final context) is merged like an activity's, and its failure, timeout,
// cancellation or termination is a failed attempt, retried by the activity's
// retry policy. `flow` must be in the same domain and outlive the parent;
// its decider and workers run wherever the parent's do (`run`, and the flow
// program's `decider` and `worker` commands serve child flows too).
Runner Child(const Flow& flow, ChildPolicy policy = ChildPolicy::kTerminate);

}  // namespace garcon
