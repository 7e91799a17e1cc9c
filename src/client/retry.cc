#include "client/retry.h"

#include <algorithm>
#include <cmath>

namespace garcon::client {

Disposition Classify(const TransportResult& transport, const Result<Json>& parsed) {
  switch (transport.failure) {
    case TransportFailure::kNotSent:
      return Disposition::kRetry;
    case TransportFailure::kMaybeSent:
      return Disposition::kRetryIfSafe;
    case TransportFailure::kAborted:
    case TransportFailure::kFatal:
      return Disposition::kFinal;
    case TransportFailure::kNone:
      break;
  }
  const long status = transport.response.status;
  if (status == 200) return Disposition::kFinal;
  // Throttled or unavailable: refused before any work was done.
  if (parsed.fault() == Fault::kThrottling || status == 429 || status == 503) {
    return Disposition::kRetry;
  }
  if (status >= 500) return Disposition::kRetryIfSafe;
  return Disposition::kFinal;
}

bool SafeToRepeat(std::string_view operation) { return operation != "SignalWorkflowExecution"; }

bool IsDuplicateFault(Fault fault) {
  switch (fault) {
    case Fault::kUnknownResource:
    case Fault::kWorkflowExecutionAlreadyStarted:
    case Fault::kDomainAlreadyExists:
    case Fault::kTypeAlreadyExists:
    case Fault::kDomainDeprecated:
    case Fault::kTypeDeprecated:
    case Fault::kTypeNotDeprecated:
      return true;
    default:
      return false;
  }
}

std::chrono::milliseconds BackoffCeiling(int retry, std::chrono::milliseconds base,
                                         std::chrono::milliseconds cap) {
  if (base <= std::chrono::milliseconds::zero()) return std::chrono::milliseconds::zero();
  std::chrono::milliseconds ceiling = base;
  for (int i = 0; i < retry && ceiling < cap; ++i) ceiling *= 2;
  return std::min(ceiling, cap);
}

std::chrono::milliseconds FullJitter(int retry, std::chrono::milliseconds base,
                                     std::chrono::milliseconds cap, double unit) {
  const auto ceiling = BackoffCeiling(retry, base, cap);
  unit = std::clamp(unit, 0.0, 1.0);
  auto ms = static_cast<std::chrono::milliseconds::rep>(
      std::floor(unit * static_cast<double>(ceiling.count() + 1)));
  return std::min(std::chrono::milliseconds(ms), ceiling);
}

}  // namespace garcon::client
