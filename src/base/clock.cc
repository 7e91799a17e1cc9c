#include "garcon/clock.h"

#include <cmath>
#include <stdexcept>
#include <vector>

namespace garcon {

double ToEpochSeconds(TimePoint t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

TimePoint FromEpochSeconds(double seconds) {
  return TimePoint(std::chrono::duration_cast<Duration>(
      std::chrono::duration<double>(seconds)));
}

TimePoint SystemClock::Now() const { return std::chrono::system_clock::now(); }

void SystemClock::WaitUntil(std::condition_variable& cv,
                            std::unique_lock<std::mutex>& lock,
                            TimePoint deadline) const {
  // Waiting on the steady clock keeps a wall-clock jump from stretching or
  // cutting the wait.
  const auto remaining = deadline - std::chrono::system_clock::now();
  if (remaining <= Duration::zero()) return;
  cv.wait_for(lock, remaining);
}

std::shared_ptr<Clock> SystemClockInstance() {
  static const std::shared_ptr<Clock> clock = std::make_shared<SystemClock>();
  return clock;
}

FakeClock::FakeClock(TimePoint start) : now_(start) {}

TimePoint FakeClock::Now() const {
  std::lock_guard<std::mutex> lock(mu_);
  return now_;
}

void FakeClock::WaitUntil(std::condition_variable& cv,
                          std::unique_lock<std::mutex>& lock,
                          TimePoint deadline) const {
  if (Now() >= deadline) return;
  // Time moves only in Advance, whose subscribers notify their waiters.
  cv.wait(lock);
}

int FakeClock::Subscribe(std::function<void()> fn) {
  std::lock_guard<std::mutex> lock(mu_);
  const int id = next_id_++;
  subscribers_.emplace(id, std::move(fn));
  return id;
}

void FakeClock::Unsubscribe(int id) {
  // Waits for a running Advance so the subscriber is not called afterwards.
  std::lock_guard<std::mutex> advance(advance_mu_);
  std::lock_guard<std::mutex> lock(mu_);
  subscribers_.erase(id);
}

void FakeClock::Advance(Duration d) {
  if (d < Duration::zero()) throw std::invalid_argument("FakeClock moves forward only");
  std::lock_guard<std::mutex> advance(advance_mu_);
  std::vector<std::function<void()>> subscribers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    now_ += d;
    for (const auto& [id, fn] : subscribers_) subscribers.push_back(fn);
  }
  for (const auto& fn : subscribers) fn();
}

void FakeClock::AdvanceSeconds(double seconds) {
  Advance(std::chrono::duration_cast<Duration>(std::chrono::duration<double>(seconds)));
}

}  // namespace garcon
