// One task list: queued tasks handed out by priority (higher first), then in
// the order they were queued, and the long polls waiting on the list, oldest
// first.
#pragma once

#include <cstdint>
#include <list>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

namespace garcon::engine {

// A queued task: the run and the event that scheduled it.
struct QueuedTask {
  std::string run_id;
  std::int64_t scheduled_event_id = 0;
};

// Where a task sits in its queue, to remove it later. seq 0: not queued.
struct QueuePosition {
  std::int64_t priority = 0;
  std::uint64_t seq = 0;
};

// Not thread-safe: the engine's lock guards it.
class TaskQueue {
 public:
  QueuePosition Push(std::int64_t priority, QueuedTask task);
  // Puts back a task at a position it had (a reopened store), so positions
  // stay comparable with those handed out later.
  void Restore(const QueuePosition& position, QueuedTask task);
  // Returns whether the task was queued.
  bool Remove(const QueuePosition& position);
  std::optional<QueuedTask> Pop();
  std::size_t size() const { return tasks_.size(); }

  void AddWaiter(std::uint64_t call_id);
  void AddWaiterFront(std::uint64_t call_id);
  bool RemoveWaiter(std::uint64_t call_id);
  std::optional<std::uint64_t> PopWaiter();
  std::size_t waiters() const { return waiters_.size(); }

  bool empty() const { return tasks_.empty() && waiters_.empty(); }

 private:
  std::uint64_t next_seq_ = 1;
  // Key: (-priority, seq), so the map's first entry is the next task.
  std::map<std::pair<std::int64_t, std::uint64_t>, QueuedTask> tasks_;
  std::list<std::uint64_t> waiters_;
  std::unordered_map<std::uint64_t, std::list<std::uint64_t>::iterator> waiter_pos_;
};

}  // namespace garcon::engine
