#include "engine/history.h"

#include <algorithm>
#include <cctype>

#include "base/status_macros.h"

namespace garcon::engine {
namespace {

// `type` with its first letter lowered, then `suffix`: one allocation.
std::string AttributesKey(std::string_view type, std::string_view suffix) {
  std::string out;
  out.reserve(type.size() + suffix.size());
  out.append(type).append(suffix);
  if (!type.empty()) out[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(out[0])));
  return out;
}

}  // namespace

std::string EventAttributesKey(std::string_view event_type) {
  return AttributesKey(event_type, "EventAttributes");
}

std::string DecisionAttributesKey(std::string_view decision_type) {
  return AttributesKey(decision_type, "DecisionAttributes");
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
  return Object("workflowId", workflow_id, "runId", run_id);
}

Json TypeJson(const std::string& name, const std::string& version) {
  return Object("name", name, "version", version);
}

Json TaskListJson(const std::string& name) { return Object("name", name); }

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

namespace {

// The ids of one page: `from` to `to` inclusive (to < from when reverse).
struct PagePlan {
  bool empty = true;
  EventId from = 0;
  EventId to = 0;
  std::optional<EventId> next;
};

PagePlan PlanPage(EventId count, EventId first, EventId last, std::optional<EventId> cursor,
                  int page_size, bool reverse) {
  PagePlan plan;
  last = std::min<EventId>(last, count);
  if (first < 1) first = 1;
  if (first > last) return plan;
  plan.empty = false;
  if (!reverse) {
    plan.from = cursor ? *cursor : first;
    plan.to = std::min<EventId>(last, plan.from + page_size - 1);
    if (plan.to < last) plan.next = plan.to + 1;
  } else {
    plan.from = cursor ? *cursor : last;
    plan.to = std::max<EventId>(first, plan.from - page_size + 1);
    if (plan.to > first) plan.next = plan.to - 1;
  }
  return plan;
}

}  // namespace

EventPage PageEvents(const std::vector<Json>& events, EventId first, EventId last,
                     std::optional<EventId> cursor, int page_size, bool reverse) {
  EventPage page;
  const PagePlan plan =
      PlanPage(static_cast<EventId>(events.size()), first, last, cursor, page_size, reverse);
  if (plan.empty) return page;
  page.next = plan.next;
  auto& out = page.events.get_ref<Json::array_t&>();
  out.reserve(static_cast<std::size_t>(reverse ? plan.from - plan.to + 1 : plan.to - plan.from + 1));
  if (!reverse) {
    for (EventId id = plan.from; id <= plan.to; ++id) page.events.push_back(events[id - 1]);
  } else {
    for (EventId id = plan.from; id >= plan.to; --id) page.events.push_back(events[id - 1]);
  }
  return page;
}

Result<EventPage> PageStoredEvents(store::Store& store, const std::string& run_id,
                                   EventId count, EventId first, EventId last,
                                   std::optional<EventId> cursor, int page_size, bool reverse) {
  EventPage page;
  const PagePlan plan = PlanPage(count, first, last, cursor, page_size, reverse);
  if (plan.empty) return page;
  page.next = plan.next;
  const EventId low = std::min(plan.from, plan.to);
  const EventId high = std::max(plan.from, plan.to);
  ASSIGN_OR_RETURN(auto bodies, store.ReadEvents(run_id, low, high));
  if (static_cast<EventId>(bodies.size()) != high - low + 1) {
    return InternalError("store: run " + run_id + " misses events " + std::to_string(low) +
                         ".." + std::to_string(high));
  }
  if (reverse) std::reverse(bodies.begin(), bodies.end());
  for (const auto& body : bodies) page.events.push_back(Json::parse(body));
  return page;
}

}  // namespace garcon::engine
