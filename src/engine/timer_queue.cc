#include "engine/timer_queue.h"

namespace garcon::engine {

DeadlineId TimerQueue::Add(Deadline deadline) {
  const DeadlineId id = next_id_++;
  order_.emplace(deadline.when, id);
  entries_.emplace(id, std::move(deadline));
  return id;
}

void TimerQueue::Cancel(DeadlineId id) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  order_.erase({it->second.when, id});
  entries_.erase(it);
}

std::optional<std::pair<DeadlineId, Deadline>> TimerQueue::PopDue(TimePoint now) {
  if (order_.empty() || order_.begin()->first > now) return std::nullopt;
  const DeadlineId id = order_.begin()->second;
  order_.erase(order_.begin());
  auto it = entries_.find(id);
  std::pair<DeadlineId, Deadline> out{id, std::move(it->second)};
  entries_.erase(it);
  return out;
}

std::optional<TimePoint> TimerQueue::Earliest() const {
  if (order_.empty()) return std::nullopt;
  return order_.begin()->first;
}

const Deadline* TimerQueue::Find(DeadlineId id) const {
  auto it = entries_.find(id);
  return it == entries_.end() ? nullptr : &it->second;
}

}  // namespace garcon::engine
