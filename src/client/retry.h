// When a call is retried, and how long to wait before each retry.
// ClientOptions (garcon/client.h) explains the policy.
#pragma once

#include <chrono>
#include <string_view>

#include "client/transport.h"
#include "garcon/service.h"
#include "garcon/status.h"

namespace garcon::client {

enum class Disposition {
  kFinal,        // return the result
  kRetry,        // the service did not act on it: retry any operation
  kRetryIfSafe,  // it may have: retry unless a duplicate would be applied
};

// How to go on after an attempt that gave `transport` and, when a response
// came, `parsed` (ParseResponse of it).
Disposition Classify(const TransportResult& transport, const Result<Json>& parsed);

// Whether a duplicate of `operation` is harmless or rejected by SWF, so that
// an attempt that may have been applied can be retried. False only for
// SignalWorkflowExecution.
bool SafeToRepeat(std::string_view operation);

// Whether `fault` is what a duplicate of an applied call gets (stale task
// token, already started, already exists, already deprecated).
bool IsDuplicateFault(Fault fault);

// min(cap, base * 2^retry), retry counting from 0.
std::chrono::milliseconds BackoffCeiling(int retry, std::chrono::milliseconds base,
                                         std::chrono::milliseconds cap);
// Full jitter: `unit` (uniform in [0, 1)) scaled to [0, BackoffCeiling].
std::chrono::milliseconds FullJitter(int retry, std::chrono::milliseconds base,
                                     std::chrono::milliseconds cap, double unit);

}  // namespace garcon::client
