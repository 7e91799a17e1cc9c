// History events and the small JSON pieces they are made of, shaped exactly
// as the SWF model's HistoryEvent: {eventId, eventTimestamp, eventType,
// <lowerCamelEventType>EventAttributes}. Also paging over a run's events.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "garcon/clock.h"
#include "garcon/service.h"
#include "garcon/store.h"

namespace garcon::engine {

using EventId = std::int64_t;

// "ActivityTaskScheduled" -> "activityTaskScheduledEventAttributes".
std::string EventAttributesKey(std::string_view event_type);
// "ScheduleActivityTask" -> "scheduleActivityTaskDecisionAttributes".
std::string DecisionAttributesKey(std::string_view decision_type);

Json MakeEvent(EventId id, TimePoint timestamp, std::string_view type, Json attributes);

// A JSON object from key, value, key, value, ... Json's initializer lists
// build a temporary array for each member and copy every lvalue: on the
// engine's hot path this takes about half their time (docs/benchmarks.md).
inline void AddMembers(Json&) {}
template <typename Value, typename... Rest>
void AddMembers(Json& object, const char* key, Value&& value, Rest&&... rest) {
  object.emplace(key, std::forward<Value>(value));
  AddMembers(object, std::forward<Rest>(rest)...);
}
template <typename... Members>
Json Object(Members&&... members) {
  static_assert(sizeof...(Members) % 2 == 0, "Object takes key, value pairs");
  Json object = Json::object();
  AddMembers(object, std::forward<Members>(members)...);
  return object;
}

Json ExecutionJson(const std::string& workflow_id, const std::string& run_id);
Json TypeJson(const std::string& name, const std::string& version);
Json TaskListJson(const std::string& name);
double Timestamp(TimePoint t);

// JSON reading helpers for requests the model has validated. None of them
// throws or asserts on a missing member.
// The member `key` of `object`, or null.
const Json& Member(const Json& object, const char* key);
std::optional<std::string> OptString(const Json& object, const char* key);
std::string StringOr(const Json& object, const char* key, std::string fallback = {});
// The `name` of an optional {name} member (e.g. taskList).
std::optional<std::string> OptTaskList(const Json& object, const char* key);
bool BoolOr(const Json& object, const char* key, bool fallback);
std::int64_t IntOr(const Json& object, const char* key, std::int64_t fallback);
void SetIf(Json& object, const char* key, const std::optional<std::string>& value);

// Page size as the model allows it: 0 or absent means 1000.
int PageSize(const Json& request);

// Events first..last (1-based ids, inclusive) of `events`, one page of at
// most `page_size`, starting at `cursor` (an event id) or at the first
// (forward) or last (reverse) event. `next` is the cursor of the next page,
// absent on the last one.
struct EventPage {
  Json events = Json::array();
  std::optional<EventId> next;
};
EventPage PageEvents(const std::vector<Json>& events, EventId first, EventId last,
                     std::optional<EventId> cursor, int page_size, bool reverse);
// The same page of a run of `count` events kept in `store` (a closed run).
Result<EventPage> PageStoredEvents(store::Store& store, const std::string& run_id,
                                   EventId count, EventId first, EventId last,
                                   std::optional<EventId> cursor, int page_size, bool reverse);

}  // namespace garcon::engine
