// An swf::Service that moves payloads past SWF's 32,768 characters out of
// the history and back, around the service a decider or worker calls:
// - requests: a value over the limit in a place SWF caps (a decision's input
//   or result, an activity's result, a workflow's input, a signal's input,
//   details, the execution context) is put in the PayloadStore and replaced
//   by its reference;
// - answers: references in a decision task's events and in an activity
//   task's input are replaced by the values (a bounded cache of recent
//   payloads saves gets).
// When a value cannot be stored for good (the store refuses it, or the
// endpoint has no payload store), the call is turned into a failure the run
// can see instead of an error that would have the task time out again and
// again: a decision task answers FailWorkflowExecution, an activity task
// RespondActivityTaskFailed, with the reason.
#pragma once

#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "garcon/payloads.h"
#include "garcon/service.h"

namespace garcon::payload {

// The reference that replaces a value in the history.
std::string Reference(std::string_view locator, std::size_t characters);
// The locator of `value` if it is a reference.
std::optional<std::string> LocatorOf(std::string_view value);

class PayloadService : public swf::Service {
 public:
  // `store` null: EnginePayloads(inner). `domain`: the domain of calls whose
  // request does not name one (answers by task token).
  PayloadService(swf::Service& inner, std::shared_ptr<PayloadStore> store, std::string domain);

  Result<Json> Call(std::string_view operation, const Json& request) override;

  // Replaces the references in a history page's events by their values.
  Status ResolveEvents(Json& events);

 private:
  // `*value` stored and replaced by its reference when over SWF's limit;
  // `what` names it in errors ("the activity result").
  Status Offload(std::string_view domain, Json& value, const std::string& what);
  Status OffloadDecisions(Json& request);
  Result<std::string> Resolve(std::string_view locator);
  // `*value` replaced by the payload it references, if it is a reference.
  Status ResolveValue(Json& value);

  swf::Service& inner_;
  std::shared_ptr<PayloadStore> store_;
  const std::string domain_;

  // Recently resolved payloads, least recently used dropped first once over
  // kCacheBytes.
  static constexpr std::size_t kCacheBytes = std::size_t{64} << 20;
  std::mutex mu_;
  std::list<std::pair<std::string, std::string>> lru_;  // (locator, data), newest first
  std::unordered_map<std::string, std::list<std::pair<std::string, std::string>>::iterator> cache_;
  std::size_t cached_bytes_ = 0;
};

}  // namespace garcon::payload
