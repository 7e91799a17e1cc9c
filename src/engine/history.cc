#include "engine/history.h"

#include <algorithm>
#include <cctype>

namespace garcon::engine {
namespace {

std::string LowerFirst(std::string_view s) {
  std::string out(s);
  if (!out.empty()) out[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(out[0])));
  return out;
}

}  // namespace

std::string EventAttributesKey(std::string_view event_type) {
  return LowerFirst(event_type) + "EventAttributes";
}

std::string DecisionAttributesKey(std::string_view decision_type) {
  return LowerFirst(decision_type) + "DecisionAttributes";
}

double Timestamp(TimePoint t) { return ToEpochSeconds(t); }

Json MakeEvent(EventId id, TimePoint timestamp, std::string_view type, Json attributes) {
  Json event = Json::object();
  event["eventId"] = id;
  event["eventTimestamp"] = Timestamp(timestamp);
  event["eventType"] = type;
  event[EventAttributesKey(type)] = std::move(attributes);
  return event;
}

Json ExecutionJson(const std::string& workflow_id, const std::string& run_id) {
  return Json{{"workflowId", workflow_id}, {"runId", run_id}};
}

Json TypeJson(const std::string& name, const std::string& version) {
  return Json{{"name", name}, {"version", version}};
}

Json TaskListJson(const std::string& name) { return Json{{"name", name}}; }

const Json& Member(const Json& object, const char* key) {
  static const Json kNull;
  if (!object.is_object()) return kNull;
  auto it = object.find(key);
  return it == object.end() ? kNull : *it;
}

std::optional<std::string> OptString(const Json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

std::string StringOr(const Json& object, const char* key, std::string fallback) {
  auto value = OptString(object, key);
  return value ? *value : std::move(fallback);
}

std::optional<std::string> OptTaskList(const Json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_object()) return std::nullopt;
  return OptString(*it, "name");
}

bool BoolOr(const Json& object, const char* key, bool fallback) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_boolean()) return fallback;
  return it->get<bool>();
}

std::int64_t IntOr(const Json& object, const char* key, std::int64_t fallback) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_number_integer()) return fallback;
  return it->get<std::int64_t>();
}

void SetIf(Json& object, const char* key, const std::optional<std::string>& value) {
  if (value) object[key] = *value;
}

int PageSize(const Json& request) {
  const std::int64_t size = IntOr(request, "maximumPageSize", 0);
  if (size <= 0 || size > 1000) return 1000;
  return static_cast<int>(size);
}

EventPage PageEvents(const std::vector<Json>& events, EventId first, EventId last,
                     std::optional<EventId> cursor, int page_size, bool reverse) {
  EventPage page;
  last = std::min<EventId>(last, static_cast<EventId>(events.size()));
  if (first < 1) first = 1;
  if (first > last) return page;
  if (!reverse) {
    const EventId start = cursor ? *cursor : first;
    const EventId end = std::min<EventId>(last, start + page_size - 1);
    for (EventId id = start; id <= end; ++id) page.events.push_back(events[id - 1]);
    if (end < last) page.next = end + 1;
  } else {
    const EventId start = cursor ? *cursor : last;
    const EventId end = std::max<EventId>(first, start - page_size + 1);
    for (EventId id = start; id >= end; --id) page.events.push_back(events[id - 1]);
    if (end > first) page.next = end - 1;
  }
  return page;
}

}  // namespace garcon::engine
