#include "engine/task_queue.h"

namespace garcon::engine {

QueuePosition TaskQueue::Push(std::int64_t priority, QueuedTask task) {
  QueuePosition position{priority, next_seq_++};
  tasks_.emplace(std::make_pair(-priority, position.seq), std::move(task));
  return position;
}

void TaskQueue::Restore(const QueuePosition& position, QueuedTask task) {
  tasks_.emplace(std::make_pair(-position.priority, position.seq), std::move(task));
  if (position.seq >= next_seq_) next_seq_ = position.seq + 1;
}

bool TaskQueue::Remove(const QueuePosition& position) {
  if (position.seq == 0) return false;
  return tasks_.erase({-position.priority, position.seq}) > 0;
}

std::optional<QueuedTask> TaskQueue::Pop() {
  if (tasks_.empty()) return std::nullopt;
  QueuedTask task = std::move(tasks_.begin()->second);
  tasks_.erase(tasks_.begin());
  return task;
}

void TaskQueue::AddWaiter(std::uint64_t call_id) {
  waiters_.push_back(call_id);
  waiter_pos_[call_id] = std::prev(waiters_.end());
}

void TaskQueue::AddWaiterFront(std::uint64_t call_id) {
  waiters_.push_front(call_id);
  waiter_pos_[call_id] = waiters_.begin();
}

bool TaskQueue::RemoveWaiter(std::uint64_t call_id) {
  auto it = waiter_pos_.find(call_id);
  if (it == waiter_pos_.end()) return false;
  waiters_.erase(it->second);
  waiter_pos_.erase(it);
  return true;
}

std::optional<std::uint64_t> TaskQueue::PopWaiter() {
  if (waiters_.empty()) return std::nullopt;
  const std::uint64_t id = waiters_.front();
  waiters_.pop_front();
  waiter_pos_.erase(id);
  return id;
}

}  // namespace garcon::engine
