// The engine's deadlines, ordered by time, each cancellable by id. Every
// timeout (activity, decision, execution, timers, long polls) is one entry.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>

#include "garcon/clock.h"

namespace garcon::engine {

using DeadlineId = std::uint64_t;  // 0 means "none"

enum class DeadlineKind {
  kPoll,                     // call_id: a held long poll ends empty
  kActivityScheduleToStart,  // run_id, event_id = scheduled event
  kActivityScheduleToClose,
  kActivityStartToClose,
  kActivityHeartbeat,
  kDecisionScheduleToStart,  // run_id, event_id = scheduled event
  kDecisionStartToClose,     // run_id, event_id = started event
  kExecutionStartToClose,    // run_id
  kTimer,                    // run_id, name = timerId, event_id = started event
  kRetention,                // a sweep purges closed runs past their retention
};

struct Deadline {
  TimePoint when;
  DeadlineKind kind = DeadlineKind::kPoll;
  std::string run_id;
  std::int64_t event_id = 0;
  std::uint64_t call_id = 0;
  std::string name;
};

// Not thread-safe: the engine's lock guards it.
class TimerQueue {
 public:
  DeadlineId Add(Deadline deadline);
  // No effect for 0 or an id already fired or cancelled.
  void Cancel(DeadlineId id);
  // Removes and returns the earliest deadline at or before `now`.
  std::optional<std::pair<DeadlineId, Deadline>> PopDue(TimePoint now);
  std::optional<TimePoint> Earliest() const;
  // The pending deadline `id`, or null.
  const Deadline* Find(DeadlineId id) const;
  std::size_t size() const { return entries_.size(); }

 private:
  DeadlineId next_id_ = 1;
  std::set<std::pair<TimePoint, DeadlineId>> order_;
  std::unordered_map<DeadlineId, Deadline> entries_;
};

}  // namespace garcon::engine
