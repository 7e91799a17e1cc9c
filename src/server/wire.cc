#include "server/wire.h"

#include <fmt/format.h>

#include <cstdio>
#include <random>

#include "base/json_text.h"
#include "base/limits.h"
#include "base/status_macros.h"
#include "protocol/model.h"

namespace garcon::server {
namespace {

bool IsSwfModeledFault(Fault fault) {
  switch (fault) {
    case Fault::kUnknownResource:
    case Fault::kDomainAlreadyExists:
    case Fault::kDomainDeprecated:
    case Fault::kTypeAlreadyExists:
    case Fault::kTypeDeprecated:
    case Fault::kTypeNotDeprecated:
    case Fault::kWorkflowExecutionAlreadyStarted:
    case Fault::kDefaultUndefined:
    case Fault::kLimitExceeded:
    case Fault::kOperationNotPermitted:
    case Fault::kTooManyTags:
      return true;
    default:
      return false;
  }
}

std::string EscapeLabel(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

std::string FaultType(Fault fault) {
  std::string name(FaultName(fault));
  if (IsSwfModeledFault(fault)) return "com.amazonaws.swf.base.model#" + name;
  if (fault == Fault::kValidation) return "com.amazon.coral.validate#" + name;
  return "com.amazon.coral.service#" + name;
}

std::string FaultBody(const Status& status) {
  Json body = {{"__type", FaultType(status.fault())}, {"message", status.message()}};
  return JsonText(body);
}

std::string NewRequestId() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const std::uint64_t hi = rng();
  const std::uint64_t lo = rng();
  // Version 4, variant 10xx.
  const std::uint64_t h = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;
  const std::uint64_t l = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(h >> 32),
                static_cast<unsigned>((h >> 16) & 0xffff), static_cast<unsigned>(h & 0xffff),
                static_cast<unsigned>(l >> 48),
                static_cast<unsigned long long>(l & 0xffffffffffffULL));
  return buf;
}

Result<std::string> OperationFromTarget(std::string_view target) {
  if (target.empty()) {
    return Status(Fault::kUnknownOperation, "Missing X-Amz-Target header");
  }
  const std::string_view garcon_prefix = protocol::kGarconTargetPrefix;
  if (target.substr(0, garcon_prefix.size()) == garcon_prefix) {
    std::string operation(target.substr(garcon_prefix.size()));
    if (!protocol::IsGarconOperation(operation)) {
      return Status(Fault::kUnknownOperation, "Unknown operation: " + std::string(target));
    }
    return operation;
  }
  if (target.substr(0, kTargetPrefix.size()) != kTargetPrefix) {
    return Status(Fault::kUnknownOperation, "Unknown operation (X-Amz-Target must be " +
                                                std::string(kTargetPrefix) +
                                                "<Operation>): " + std::string(target));
  }
  std::string operation(target.substr(kTargetPrefix.size()));
  if (!protocol::Model::Get().HasOperation(operation)) {
    return Status(Fault::kUnknownOperation, "Unknown operation: " + operation);
  }
  return operation;
}

namespace {

// What the JSON parser would accept but a request must not hold: a byte-order
// mark (AWS JSON bodies are plain UTF-8 JSON), a NUL byte (the parser takes
// it for the end of the input and ignores what follows), and nesting deeper
// than kMaxJsonDepth (SWF's deepest request is a few levels; deeper values
// would cost stack when they are printed or destroyed). One pass, no
// allocation.
Status CheckJsonBytes(std::string_view body) {
  if (body.size() >= 3 && body.substr(0, 3) == "\xEF\xBB\xBF") {
    return SerializationError(
        "Malformed JSON request body: a UTF-8 byte-order mark is not allowed");
  }
  std::size_t depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (std::size_t i = 0; i < body.size(); ++i) {
    const char c = body[i];
    if (c == '\0') {
      return SerializationError("Malformed JSON request body: NUL byte at byte " +
                                std::to_string(i));
    }
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > kMaxJsonDepth) {
        return SerializationError("Malformed JSON request body: nesting deeper than " +
                                  std::to_string(kMaxJsonDepth) + " levels at byte " +
                                  std::to_string(i));
      }
    } else if ((c == '}' || c == ']') && depth > 0) {
      --depth;
    }
  }
  return Status::Ok();
}

// The parser's explanation without its library prefix
// ("[json.exception.parse_error.101] parse error at line 1, column 7: ").
std::string ParseErrorReason(const Json::parse_error& e) {
  std::string_view what = e.what();
  const std::size_t colon = what.find(": ");
  if (what.rfind("[json.exception.", 0) == 0 && colon != std::string_view::npos) {
    what.remove_prefix(colon + 2);
  }
  return "Malformed JSON request body at byte " + std::to_string(e.byte) + ": " +
         limits::CutToCharacters(what, 200);
}

}  // namespace

Result<Json> ParseRequestBody(std::string_view body) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return Json::object();
  RETURN_IF_ERROR(CheckJsonBytes(body));
  Json json;
  try {
    json = Json::parse(body);
  } catch (const Json::parse_error& e) {
    return SerializationError(ParseErrorReason(e));
  } catch (const Json::out_of_range&) {
    return SerializationError(
        "Malformed JSON request body: a number is out of range (numbers must be finite "
        "doubles or 64-bit integers)");
  } catch (const Json::exception&) {
    return SerializationError("Malformed JSON request body");
  }
  if (!json.is_object()) {
    return SerializationError("The request body must be a JSON object, not " +
                              std::string(json.type_name()));
  }
  return json;
}

std::string ResponseBody(const Json& response) {
  if (response.is_null()) return "{}";
  return JsonText(response);
}

// --- Metrics -------------------------------------------------------------------

void Metrics::CountRequest(std::string_view operation, int http_status, double seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = operations_.find(operation);
  if (it == operations_.end())
    it = operations_.emplace(std::string(operation), PerOperation{}).first;
  ++it->second.by_status[http_status];
  it->second.seconds_sum += seconds;
  ++it->second.count;
}

void Metrics::ConnectionOpened() {
  std::lock_guard<std::mutex> lock(mu_);
  ++connections_open_;
  ++connections_total_;
}

void Metrics::ConnectionRefused() {
  std::lock_guard<std::mutex> lock(mu_);
  ++connections_refused_;
}

void Metrics::ConnectionReclaimed() {
  std::lock_guard<std::mutex> lock(mu_);
  ++connections_reclaimed_;
}

void Metrics::ConnectionClosed() {
  std::lock_guard<std::mutex> lock(mu_);
  --connections_open_;
}

void Metrics::PollHeld() {
  std::lock_guard<std::mutex> lock(mu_);
  ++polls_held_;
}

void Metrics::PollReleased() {
  std::lock_guard<std::mutex> lock(mu_);
  --polls_held_;
}

std::string Metrics::Text(const engine::Engine::Stats& stats) const {
  std::string out;
  auto line = [&out](const std::string& s) {
    out += s;
    out += '\n';
  };
  std::lock_guard<std::mutex> lock(mu_);
  line("# HELP garcon_requests_total Requests answered, by operation and HTTP status.");
  line("# TYPE garcon_requests_total counter");
  for (const auto& [op, per] : operations_) {
    for (const auto& [status, count] : per.by_status) {
      line("garcon_requests_total{operation=\"" + EscapeLabel(op) + "\",status=\"" +
           std::to_string(status) + "\"} " + std::to_string(count));
    }
  }
  line(
      "# HELP garcon_request_duration_seconds Time from a request's last byte to its "
      "response, long polls included.");
  line("# TYPE garcon_request_duration_seconds summary");
  for (const auto& [op, per] : operations_) {
    char sum[64];
    std::snprintf(sum, sizeof sum, "%.6f", per.seconds_sum);
    line("garcon_request_duration_seconds_sum{operation=\"" + EscapeLabel(op) + "\"} " + sum);
    line("garcon_request_duration_seconds_count{operation=\"" + EscapeLabel(op) + "\"} " +
         std::to_string(per.count));
  }
  auto gauge = [&line](const char* name, const char* help, auto value) {
    line(std::string("# HELP ") + name + " " + help);
    line(std::string("# TYPE ") + name + " gauge");
    line(std::string(name) + " " + std::to_string(value));
  };
  gauge("garcon_http_connections_open", "Open HTTP connections.", connections_open_);
  line("# HELP garcon_http_connections_total HTTP connections accepted.");
  line("# TYPE garcon_http_connections_total counter");
  line("garcon_http_connections_total " + std::to_string(connections_total_));
  line(
      "# HELP garcon_http_connections_refused_total Connections answered 503 at the "
      "connection cap.");
  line("# TYPE garcon_http_connections_refused_total counter");
  line("garcon_http_connections_refused_total " + std::to_string(connections_refused_));
  line(
      "# HELP garcon_http_connections_reclaimed_total Idle keep-alive connections closed to "
      "make room for new ones at the connection cap.");
  line("# TYPE garcon_http_connections_reclaimed_total counter");
  line("garcon_http_connections_reclaimed_total " + std::to_string(connections_reclaimed_));
  gauge("garcon_http_polls_held", "Long polls this server holds open.", polls_held_);
  gauge("garcon_open_executions", "Open workflow executions.", stats.open_executions);
  gauge("garcon_closed_executions", "Closed workflow executions still retained.",
        stats.closed_executions);
  gauge("garcon_queued_decision_tasks", "Decision tasks scheduled, not yet started.",
        stats.queued_decision_tasks);
  gauge("garcon_queued_activity_tasks", "Activity tasks scheduled, not yet started.",
        stats.queued_activity_tasks);
  gauge("garcon_poll_waiters", "Long polls waiting in the engine.", stats.poll_waiters);
  line("# HELP garcon_store_commit_seconds Time to make each operation's changes durable.");
  line("# TYPE garcon_store_commit_seconds summary");
  line("garcon_store_commit_seconds_sum " + fmt::format("{:.6f}", stats.store_commit_seconds));
  line("garcon_store_commit_seconds_count " + std::to_string(stats.store_commits));
  return out;
}

}  // namespace garcon::server
