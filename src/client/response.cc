#include "client/response.h"

#include <string>

namespace garcon::client {
namespace {

std::string Snippet(std::string_view body) {
  constexpr std::size_t kMax = 200;
  std::string out(body.substr(0, kMax));
  for (char& c : out) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  if (body.size() > kMax) out += "...";
  return out;
}

std::string_view AfterHash(std::string_view name) {
  if (std::size_t hash = name.rfind('#'); hash != std::string_view::npos) {
    name.remove_prefix(hash + 1);
  }
  return name;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

std::string StringMember(const Json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_null()) return "";
  return it->dump();
}

Status WithoutFaultName(long http_status, std::string_view body) {
  std::string message = "HTTP " + std::to_string(http_status);
  if (!body.empty()) message += ": " + Snippet(body);
  Fault fault = Fault::kInternalFailure;
  switch (http_status) {
    case 502:
    case 503:
    case 504:
      fault = Fault::kServiceUnavailable;
      break;
    case 429:
      fault = Fault::kThrottling;
      break;
    case 403:
      fault = Fault::kAccessDenied;
      break;
    case 413:
      fault = Fault::kValidation;
      break;
    default:
      break;
  }
  return {fault, std::move(message)};
}

}  // namespace

Result<Json> ParseResponse(long http_status, std::string_view body,
                           std::string_view error_type_header) {
  if (http_status == 200) {
    if (Trim(body).empty()) return Json::object();
    Json json = Json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (json.is_discarded()) {
      return InternalError("the response is not JSON: " + Snippet(body));
    }
    return json;
  }

  Json json = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  std::string name;
  std::string message;
  if (json.is_object()) {
    name = std::string(AfterHash(StringMember(json, "__type")));
    message = StringMember(json, "message");
    if (message.empty()) message = StringMember(json, "Message");
  }
  if (name.empty()) {
    std::string_view header = Trim(error_type_header);
    name = std::string(AfterHash(Trim(header.substr(0, header.find(':')))));
  }
  if (name.empty()) return WithoutFaultName(http_status, body);

  Fault fault = FaultFromName(name);
  if (fault == Fault::kInternalFailure && name != FaultName(Fault::kInternalFailure)) {
    // A name Status does not know (or one of InternalFailure's aliases):
    // keep it visible.
    message = message.empty() ? name : name + ": " + message;
  }
  return Status(fault, std::move(message));
}

}  // namespace garcon::client
