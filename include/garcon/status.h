// Errors as values. A Status is either OK or a fault named exactly as Amazon
// SWF names it on the wire (the part of `__type` after `#`), so an error
// produced by the embedded engine, by `garcon server` or by Amazon SWF itself
// reads the same to the caller.
#pragma once

#if __cplusplus < 202002L
#error "Garcon needs C++20: compile with -std=c++20 (or link garcon::garcon in CMake)"
#endif

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace garcon {

enum class Fault {
  kOk = 0,
  // Modeled SWF faults (service-2.json).
  kUnknownResource,
  kDomainAlreadyExists,
  kDomainDeprecated,
  kTypeAlreadyExists,
  kTypeDeprecated,
  kTypeNotDeprecated,
  kWorkflowExecutionAlreadyStarted,
  kDefaultUndefined,
  kLimitExceeded,
  kOperationNotPermitted,
  kTooManyTags,
  // Protocol-level faults every AWS JSON 1.0 service returns.
  kValidation,            // ValidationException
  kSerialization,         // SerializationException: malformed JSON, wrong types
  kUnknownOperation,      // UnknownOperationException
  kThrottling,            // ThrottlingException (clients retry it)
  kAccessDenied,          // AccessDeniedException
  kIncompleteSignature,   // IncompleteSignatureException
  kInvalidSignature,      // InvalidSignatureException
  kMissingAuthenticationToken,  // MissingAuthenticationTokenException
  kUnrecognizedClient,    // UnrecognizedClientException (unknown access key)
  kRequestExpired,        // RequestExpired (clock skew)
  kInternalFailure,       // InternalFailure (HTTP 500)
  kServiceUnavailable,    // ServiceUnavailable (HTTP 503) and transport errors
};

// The wire name of a fault, e.g. "UnknownResourceFault".
std::string_view FaultName(Fault fault);
// The inverse of FaultName. Accepts a full `__type` such as
// "com.amazonaws.swf.base.model#UnknownResourceFault". Unknown names map to
// kInternalFailure.
Fault FaultFromName(std::string_view name);
// The HTTP status a server answers with for this fault.
int FaultHttpStatus(Fault fault);
// Whether a client should retry the call that produced this fault.
bool FaultIsRetryable(Fault fault);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Fault fault, std::string message)
      : fault_(fault), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return fault_ == Fault::kOk; }
  Fault fault() const { return fault_; }
  const std::string& message() const { return message_; }
  // "UnknownResourceFault: Unknown domain: d", or "OK".
  std::string ToString() const;

  friend bool operator==(const Status& a, const Status& b) {
    return a.fault_ == b.fault_ && a.message_ == b.message_;
  }

 private:
  Fault fault_ = Fault::kOk;
  std::string message_;
};

// Named constructors, in the style of abseil's.
inline Status UnknownResource(std::string m) {
  return {Fault::kUnknownResource, std::move(m)};
}
inline Status ValidationError(std::string m) {
  return {Fault::kValidation, std::move(m)};
}
inline Status SerializationError(std::string m) {
  return {Fault::kSerialization, std::move(m)};
}
inline Status InternalError(std::string m) {
  return {Fault::kInternalFailure, std::move(m)};
}

// A value or the Status explaining why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {}  // NOLINT
  Result(Fault fault, std::string message) : v_(Status(fault, std::move(message))) {}

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  Fault fault() const { return status().fault(); }

  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace garcon

#define GARCON_CONCAT_INNER_(a, b) a##b
#define GARCON_CONCAT_(a, b) GARCON_CONCAT_INNER_(a, b)

// Returns the Status from the enclosing function when `expr` is not OK.
#define GARCON_RETURN_IF_ERROR(expr)                   \
  do {                                                 \
    ::garcon::Status garcon_status_ = (expr);          \
    if (!garcon_status_.ok()) return garcon_status_;   \
  } while (0)

// `GARCON_ASSIGN_OR_RETURN(auto x, F())`: x = F().value(), or return its
// Status.
#define GARCON_ASSIGN_OR_RETURN(lhs, expr)                                   \
  auto GARCON_CONCAT_(garcon_result_, __LINE__) = (expr);                   \
  if (!GARCON_CONCAT_(garcon_result_, __LINE__).ok())                       \
    return GARCON_CONCAT_(garcon_result_, __LINE__).status();               \
  lhs = std::move(GARCON_CONCAT_(garcon_result_, __LINE__)).value()
