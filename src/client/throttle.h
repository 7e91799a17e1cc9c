// Client-side throttling: a token bucket per operation (and per throttled
// decision type), so a busy process waits its turn instead of being answered
// ThrottlingException. A bucket hands out reservations: a caller takes its
// tokens at once, going into debt when the bucket is short, and is told how
// long to wait for the debt to be refilled; callers behind it wait longer.
// So each caller sleeps once, and the order of callers is kept.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "garcon/client.h"
#include "garcon/service.h"

namespace garcon::client {

using SteadyTime = std::chrono::steady_clock::time_point;

// Not thread-safe (Throttle locks).
class TokenBucket {
 public:
  // Starts full.
  TokenBucket(RateLimit limit, SteadyTime now);

  // Takes `tokens` and returns how long the caller must wait before going
  // on: zero when the bucket held them.
  std::chrono::nanoseconds Reserve(double tokens, SteadyTime now);

  // Tokens left at `now` (negative while in debt).
  double Available(SteadyTime now);

 private:
  void Refill(SteadyTime now);

  RateLimit limit_;
  double tokens_;
  SteadyTime last_;
};

// Thread-safe.
class Throttle {
 public:
  // `limits` by operation name or decision type; operations without one are
  // not throttled.
  explicit Throttle(std::map<std::string, RateLimit, std::less<>> limits);

  // Reserves one token of `operation`'s bucket, and for
  // RespondDecisionTaskCompleted one of each decision's type bucket per
  // decision in `request`; returns the longest wait.
  std::chrono::nanoseconds Reserve(std::string_view operation, const Json& request, SteadyTime now);

 private:
  std::chrono::nanoseconds ReserveLocked(std::string_view name, double tokens, SteadyTime now);

  std::mutex mu_;
  std::map<std::string, RateLimit, std::less<>> limits_;
  std::map<std::string, TokenBucket, std::less<>> buckets_;
};

}  // namespace garcon::client
