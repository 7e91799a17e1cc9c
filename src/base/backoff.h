// Exponential backoff with full jitter for poll loops, waiting on a
// stop_token so a stop request ends the wait at once.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <random>
#include <stop_token>

namespace garcon {

class Backoff {
 public:
  explicit Backoff(std::chrono::milliseconds base = std::chrono::milliseconds(100),
                   std::chrono::milliseconds cap = std::chrono::seconds(30))
      : base_(base), cap_(cap), rng_(std::random_device{}()) {}

  void Reset() { attempt_ = 0; }

  // The next delay: uniform in [0, min(cap, base * 2^attempt)].
  std::chrono::milliseconds Next() {
    auto ceiling = base_ * (1LL << std::min(attempt_, 20));
    if (ceiling > cap_) ceiling = cap_;
    ++attempt_;
    std::uniform_int_distribution<long long> pick(0, ceiling.count());
    return std::chrono::milliseconds(pick(rng_));
  }

  // Sleeps for Next(), or less if `stop` is requested.
  void Wait(std::stop_token stop) {
    std::mutex mu;
    std::condition_variable_any cv;
    std::unique_lock lock(mu);
    cv.wait_for(lock, stop, Next(), [] { return false; });
  }

 private:
  std::chrono::milliseconds base_;
  std::chrono::milliseconds cap_;
  int attempt_ = 0;
  std::mt19937_64 rng_;
};

}  // namespace garcon
