// Time, owned by an injectable Clock so that every timeout can be tested by
// skipping time instead of sleeping (a 10-minute heartbeat timeout is tested
// in microseconds with FakeClock).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>

namespace garcon {

using TimePoint = std::chrono::system_clock::time_point;
using Duration = std::chrono::system_clock::duration;

// Seconds since the Unix epoch, as SWF's JSON timestamps are written.
double ToEpochSeconds(TimePoint t);
TimePoint FromEpochSeconds(double seconds);

// Thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;

  virtual TimePoint Now() const = 0;

  // Blocks on `cv` (with `lock` held on entry and on return) until notified
  // or until this clock reaches `deadline`. Spurious wake-ups are allowed:
  // callers re-check their condition.
  virtual void WaitUntil(std::condition_variable& cv,
                         std::unique_lock<std::mutex>& lock,
                         TimePoint deadline) const = 0;

  // Registers `fn` to be called (on the thread that moves time) each time
  // this clock jumps forward. Only a fake clock jumps; the system clock never
  // calls it. Returns an id for Unsubscribe. `fn` must not call back into the
  // clock's Subscribe/Unsubscribe.
  virtual int Subscribe(std::function<void()> fn) {
    (void)fn;
    return 0;
  }
  virtual void Unsubscribe(int id) { (void)id; }
};

// Wall-clock time; deadlines wait on the system clock.
class SystemClock final : public Clock {
 public:
  TimePoint Now() const override;
  void WaitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                 TimePoint deadline) const override;
};

// The process-wide system clock.
std::shared_ptr<Clock> SystemClockInstance();

// A clock that only moves when told. Waiters sleep until notified; Advance
// runs the subscribers synchronously so that, when Advance returns, every
// deadline it passed has fired.
class FakeClock final : public Clock {
 public:
  // Starts at 2026-01-01T00:00:00Z unless told otherwise.
  explicit FakeClock(TimePoint start = FromEpochSeconds(1767225600.0));

  TimePoint Now() const override;
  void WaitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                 TimePoint deadline) const override;
  int Subscribe(std::function<void()> fn) override;
  void Unsubscribe(int id) override;

  // Moves time forward by `d` (must be >= 0) and runs the subscribers.
  void Advance(Duration d);
  void AdvanceSeconds(double seconds);

 private:
  mutable std::mutex mu_;
  TimePoint now_;
  int next_id_ = 1;
  std::map<int, std::function<void()>> subscribers_;
  std::mutex advance_mu_;  // serializes Advance with Unsubscribe
};

}  // namespace garcon
