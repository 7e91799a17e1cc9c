#include "payload/payload_service.h"

#include <array>
#include <utility>

#include "base/limits.h"
#include "base/status_macros.h"

namespace garcon::payload {
namespace {

constexpr std::string_view kReferencePrefix = R"({"garcon.payload":")";

struct Field {
  std::string_view attributes;
  std::string_view name;
};

// Where a decision carries a value SWF caps at 32,768 characters.
constexpr std::array kDecisionFields = {
    Field{"scheduleActivityTaskDecisionAttributes", "input"},
    Field{"completeWorkflowExecutionDecisionAttributes", "result"},
    Field{"failWorkflowExecutionDecisionAttributes", "details"},
    Field{"cancelWorkflowExecutionDecisionAttributes", "details"},
    Field{"continueAsNewWorkflowExecutionDecisionAttributes", "input"},
    Field{"recordMarkerDecisionAttributes", "details"},
    Field{"startChildWorkflowExecutionDecisionAttributes", "input"},
    Field{"signalExternalWorkflowExecutionDecisionAttributes", "input"},
};

// The event values a decider reads. The inputs of scheduled activities and
// child runs are not resolved: the decider made them, and reads them from
// its own state.
constexpr std::array kEventFields = {
    Field{"workflowExecutionStartedEventAttributes", "input"},
    Field{"activityTaskCompletedEventAttributes", "result"},
    Field{"activityTaskFailedEventAttributes", "details"},
    Field{"activityTaskCanceledEventAttributes", "details"},
    Field{"childWorkflowExecutionCompletedEventAttributes", "result"},
    Field{"childWorkflowExecutionFailedEventAttributes", "details"},
    Field{"workflowExecutionSignaledEventAttributes", "input"},
    Field{"markerRecordedEventAttributes", "details"},
    Field{"decisionTaskCompletedEventAttributes", "executionContext"},
    Field{"workflowExecutionCompletedEventAttributes", "result"},
    Field{"workflowExecutionFailedEventAttributes", "details"},
};

// A failure that trying again cannot mend: the value has no place to go.
bool Permanent(const Status& status) {
  return status.fault() == Fault::kUnknownOperation || status.fault() == Fault::kValidation ||
         status.fault() == Fault::kUnknownResource || status.fault() == Fault::kSerialization;
}

std::string Cut(const std::string& text, std::size_t characters) {
  return limits::CutToCharacters(text, characters);
}

// Whether `value` holds a string that may be past SWF's limit (its bytes
// bound its characters from above). A request without one is sent as it
// is, without a copy: the common case on the decider's and worker's path.
bool HasLargeString(const Json& value) {
  if (value.is_string()) return value.get_ref<const std::string&>().size() > limits::kMaxDataCharacters;
  if (value.is_structured()) {
    for (const Json& item : value) {
      if (HasLargeString(item)) return true;
    }
  }
  return false;
}

}  // namespace

std::string Reference(std::string_view locator, std::size_t characters) {
  // Spelled out: the reference key comes first (a JSON object would sort
  // its keys), so a value is told from a reference by its first bytes.
  return std::string(R"({"garcon.payload":)") + Json(locator).dump() +
         ",\"characters\":" + std::to_string(characters) + "}";
}

std::optional<std::string> LocatorOf(std::string_view value) {
  if (value.substr(0, kReferencePrefix.size()) != kReferencePrefix) return std::nullopt;
  Json parsed = Json::parse(value, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_object()) return std::nullopt;
  auto it = parsed.find("garcon.payload");
  if (it == parsed.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

PayloadService::PayloadService(swf::Service& inner, std::shared_ptr<PayloadStore> store,
                               std::string domain)
    : inner_(inner),
      store_(store ? std::move(store) : EnginePayloads(inner)),
      domain_(std::move(domain)) {}

Status PayloadService::Offload(std::string_view domain, Json& value, const std::string& what) {
  if (!value.is_string()) return Status::Ok();
  const auto& text = value.get_ref<const std::string&>();
  // Bytes bound characters from above: most values are decided without
  // counting.
  if (text.size() <= limits::kMaxDataCharacters) return Status::Ok();
  const std::size_t characters = limits::Characters(text);
  if (characters <= limits::kMaxDataCharacters) return Status::Ok();
  if (text.size() > kMaxPayloadBytes) {
    return ValidationError(what + " is " + std::to_string(text.size()) +
                           " bytes, past the largest payload Garcon stores (" +
                           std::to_string(kMaxPayloadBytes) + " bytes)");
  }
  auto locator = store_->Put(domain, text);
  if (!locator.ok()) {
    return Status(locator.status().fault(), what + " is " + std::to_string(characters) +
                                                " characters (SWF allows 32768) and could not "
                                                "be stored as a payload: " +
                                                locator.status().message());
  }
  value = Reference(*locator, characters);
  return Status::Ok();
}

Status PayloadService::OffloadDecisions(Json& request) {
  if (auto it = request.find("executionContext"); it != request.end()) {
    RETURN_IF_ERROR(Offload(domain_, *it, "the execution context"));
  }
  auto decisions = request.find("decisions");
  if (decisions == request.end() || !decisions->is_array()) return Status::Ok();
  for (Json& decision : *decisions) {
    if (!decision.is_object()) continue;
    for (const Field& field : kDecisionFields) {
      auto attributes = decision.find(field.attributes);
      if (attributes == decision.end() || !attributes->is_object()) continue;
      auto value = attributes->find(field.name);
      if (value == attributes->end()) continue;
      std::string what = std::string("the ") + std::string(field.name) + " of " +
                         decision.value("decisionType", std::string("a decision"));
      if (field.attributes == "scheduleActivityTaskDecisionAttributes") {
        what = "the input of activity " + attributes->value("activityId", std::string());
      } else if (field.attributes == "completeWorkflowExecutionDecisionAttributes") {
        what = "the workflow result";
      }
      RETURN_IF_ERROR(Offload(domain_, *value, what));
    }
  }
  return Status::Ok();
}

Result<std::string> PayloadService::Resolve(std::string_view locator) {
  const std::string key(locator);
  {
    std::lock_guard lock(mu_);
    if (auto it = cache_.find(key); it != cache_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second);
      return it->second->second;
    }
  }
  ASSIGN_OR_RETURN(std::string data, store_->Get(domain_, locator));
  std::lock_guard lock(mu_);
  if (cache_.find(key) == cache_.end() && data.size() <= kCacheBytes / 4) {
    lru_.emplace_front(key, data);
    cache_[key] = lru_.begin();
    cached_bytes_ += data.size();
    while (cached_bytes_ > kCacheBytes && !lru_.empty()) {
      cached_bytes_ -= lru_.back().second.size();
      cache_.erase(lru_.back().first);
      lru_.pop_back();
    }
  }
  return data;
}

Status PayloadService::ResolveValue(Json& value) {
  if (!value.is_string()) return Status::Ok();
  auto locator = LocatorOf(value.get_ref<const std::string&>());
  if (!locator) return Status::Ok();
  ASSIGN_OR_RETURN(std::string data, Resolve(*locator));
  value = std::move(data);
  return Status::Ok();
}

Status PayloadService::ResolveEvents(Json& events) {
  if (!events.is_array()) return Status::Ok();
  for (Json& event : events) {
    if (!event.is_object()) continue;
    for (const Field& field : kEventFields) {
      auto attributes = event.find(field.attributes);
      if (attributes == event.end() || !attributes->is_object()) continue;
      auto value = attributes->find(field.name);
      if (value != attributes->end()) RETURN_IF_ERROR(ResolveValue(*value));
    }
  }
  return Status::Ok();
}

Result<Json> PayloadService::Call(std::string_view operation, const Json& request) {
  if (operation == "PollForDecisionTask" || operation == "GetWorkflowExecutionHistory") {
    ASSIGN_OR_RETURN(Json answer, inner_.Call(operation, request));
    if (auto events = answer.find("events"); events != answer.end()) {
      RETURN_IF_ERROR(ResolveEvents(*events));
    }
    return answer;
  }
  if (operation == "PollForActivityTask") {
    ASSIGN_OR_RETURN(Json answer, inner_.Call(operation, request));
    if (auto input = answer.find("input"); input != answer.end()) {
      RETURN_IF_ERROR(ResolveValue(*input));
    }
    return answer;
  }
  // What follows stores large values: a request without one goes as it is.
  if (!HasLargeString(request)) return inner_.Call(operation, request);
  if (operation == "RespondDecisionTaskCompleted") {
    Json copy = request;
    Status offloaded = OffloadDecisions(copy);
    if (offloaded.ok()) return inner_.Call(operation, copy);
    if (!Permanent(offloaded)) return offloaded;
    // The run cannot go on as decided: it fails, saying why.
    Json failed = {{"taskToken", request.value("taskToken", "")},
                   {"decisions",
                    {{{"decisionType", "FailWorkflowExecution"},
                      {"failWorkflowExecutionDecisionAttributes",
                       {{"reason", Cut(offloaded.message(), limits::kMaxReasonCharacters)},
                        {"details", Cut(offloaded.message(), limits::kMaxDataCharacters)}}}}}}};
    return inner_.Call(operation, failed);
  }
  if (operation == "RespondActivityTaskCompleted") {
    Json copy = request;
    Status offloaded = Status::Ok();
    if (auto result = copy.find("result"); result != copy.end()) {
      offloaded = Offload(domain_, *result, "the activity result");
    }
    if (offloaded.ok()) return inner_.Call(operation, copy);
    if (!Permanent(offloaded)) return offloaded;
    // A failed attempt, retried (or not) like any other.
    return inner_.Call("RespondActivityTaskFailed",
                       {{"taskToken", request.value("taskToken", "")},
                        {"reason", Cut(offloaded.message(), limits::kMaxReasonCharacters)},
                        {"details", Cut(offloaded.message(), limits::kMaxDataCharacters)}});
  }
  if (operation == "RespondActivityTaskFailed" || operation == "RespondActivityTaskCanceled") {
    Json copy = request;
    if (auto details = copy.find("details"); details != copy.end()) {
      // Details only inform: past what can be stored, they are cut.
      if (!Offload(domain_, *details, "the details").ok()) {
        *details = Cut(details->get<std::string>(), limits::kMaxDataCharacters);
      }
    }
    return inner_.Call(operation, copy);
  }
  if (operation == "StartWorkflowExecution" || operation == "SignalWorkflowExecution") {
    Json copy = request;
    if (auto input = copy.find("input"); input != copy.end()) {
      const std::string domain = request.value("domain", domain_);
      RETURN_IF_ERROR(Offload(domain, *input, "the input"));
    }
    return inner_.Call(operation, copy);
  }
  return inner_.Call(operation, request);
}

}  // namespace garcon::payload
