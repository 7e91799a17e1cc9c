// Garcon's payload operations (PutPayload, GetPayload): inputs, results and
// contexts past SWF's 32,768 characters, stored in the engine's store once
// per domain under the SHA-256 of their bytes. A put is journaled like any
// change (its answer waits until it is durable); a get reads the store after
// everything submitted before it. docs/payloads.md.
#include <chrono>
#include <string>

#include "base/status_macros.h"
#include "engine/engine_impl.h"
#include "engine/history.h"
#include "protocol/model.h"
#include "protocol/sigv4.h"

namespace garcon::engine {
namespace {

// The domain and a string member, checked by hand: these operations are not
// in SWF's model.
Result<std::string> StringMember(const Json& request, const char* name, std::size_t max_bytes) {
  auto it = request.find(name);
  if (it == request.end() || it->is_null()) {
    return ValidationError(std::string("1 validation error detected: Value null at '") + name +
                           "' failed to satisfy constraint: Member must not be null");
  }
  if (!it->is_string()) {
    return SerializationError(std::string("the member '") + name + "' must be a string");
  }
  const auto& text = it->get_ref<const std::string&>();
  if (text.size() > max_bytes) {
    return ValidationError(std::string("1 validation error detected: Value at '") + name +
                           "' failed to satisfy constraint: Member must have length less than or "
                           "equal to " +
                           std::to_string(max_bytes) + " bytes");
  }
  return text;
}

bool IsKey(const std::string& key) {
  if (key.size() != 64) return false;
  for (char c : key) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

Result<Json> EngineImpl::PutPayload(const Json& request) {
  ASSIGN_OR_RETURN(std::string domain, StringMember(request, "domain", 1024));
  ASSIGN_OR_RETURN(std::string data, StringMember(request, "data", protocol::kMaxPayloadBytes));
  // Deprecated domains keep their running workflows, whose deciders and
  // workers still store payloads.
  if (FindDomain(domain) == nullptr) return UnknownResource("Unknown domain: " + domain);
  std::string key = sigv4::Sha256Hex(data);
  store::Payload payload;
  payload.domain = std::move(domain);
  payload.key = key;
  payload.body = std::move(data);
  payload.put_us =
      std::chrono::duration_cast<std::chrono::microseconds>(now_.time_since_epoch()).count();
  pending_payloads_.push_back(std::move(payload));
  return Object("key", std::move(key));
}

Result<Json> EngineImpl::GetPayload(const Json& request) {
  ASSIGN_OR_RETURN(std::string domain, StringMember(request, "domain", 1024));
  ASSIGN_OR_RETURN(std::string key, StringMember(request, "key", 64));
  if (FindDomain(domain) == nullptr) return UnknownResource("Unknown domain: " + domain);
  if (!IsKey(key)) {
    return ValidationError("1 validation error detected: Value '" + key +
                           "' at 'key' failed to satisfy constraint: Member must be a SHA-256 "
                           "in lowercase hex (64 characters)");
  }
  pending_read_ = [domain, key](store::Store& store) -> Result<Json> {
    ASSIGN_OR_RETURN(auto body, store.ReadPayload(domain, key));
    if (!body) return UnknownResource("Unknown payload: " + key + " in domain " + domain);
    return Object("data", std::move(*body));
  };
  return Json::object();
}

}  // namespace garcon::engine
