// The parts of `garcon server` that do not touch sockets: fault bodies as
// AWS JSON 1.0 writes them, request ids, the X-Amz-Target header, request
// body decoding, and the metrics registry. Kept apart from the Beast code so
// that they are cheap to compile and to test.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include "garcon/engine.h"
#include "garcon/service.h"
#include "garcon/status.h"

namespace garcon::server {

inline constexpr std::string_view kJsonContentType = "application/x-amz-json-1.0";
inline constexpr std::string_view kTargetPrefix = "SimpleWorkflowService.";

// The full `__type` of a fault: "com.amazonaws.swf.base.model#<Name>" for
// SWF's modeled faults, "com.amazon.coral.validate#ValidationException",
// "com.amazon.coral.service#<Name>" for the other protocol faults.
std::string FaultType(Fault fault);

// `{"__type": FaultType(fault), "message": message}`.
std::string FaultBody(const Status& status);

// A random (version 4) UUID, e.g. "3f0e...-...". Thread-safe.
std::string NewRequestId();

// The operation named by an X-Amz-Target value
// ("SimpleWorkflowService.ListDomains" -> "ListDomains"). Errors:
// kUnknownOperation when the header is missing, has another prefix, or names
// an operation SWF does not have.
Result<std::string> OperationFromTarget(std::string_view target);

// How deep `{` and `[` may nest in a request body.
inline constexpr std::size_t kMaxJsonDepth = 64;

// The JSON object of a request body ("" counts as {}). Errors: kSerialization
// for malformed JSON (with the byte where it broke), a byte-order mark, a NUL
// byte, nesting deeper than kMaxJsonDepth, a number out of range, or a body
// that is not a JSON object. Never throws.
Result<Json> ParseRequestBody(std::string_view body);

// A response body: `response` serialized ({} for null), invalid UTF-8
// replaced rather than thrown on.
std::string ResponseBody(const Json& response);

// Counters for /metrics. Thread-safe.
class Metrics {
 public:
  void CountRequest(std::string_view operation, int http_status, double seconds);
  void ConnectionOpened();
  // A connection refused at the connection cap, or closed to make room.
  void ConnectionRefused();
  void ConnectionReclaimed();
  void ConnectionClosed();
  void PollHeld();
  void PollReleased();

  // The Prometheus text exposition (version 0.0.4), including the engine's
  // numbers.
  std::string Text(const engine::Engine::Stats& stats) const;

 private:
  struct PerOperation {
    std::map<int, std::uint64_t> by_status;
    double seconds_sum = 0;
    std::uint64_t count = 0;
  };
  mutable std::mutex mu_;
  std::map<std::string, PerOperation, std::less<>> operations_;
  std::int64_t connections_open_ = 0;
  std::uint64_t connections_total_ = 0;
  std::uint64_t connections_refused_ = 0;
  std::uint64_t connections_reclaimed_ = 0;
  std::int64_t polls_held_ = 0;
};

}  // namespace garcon::server
