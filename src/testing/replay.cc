// Replay: the decisions a flow makes now, decision task by decision task of a
// recorded history, against the decisions the history recorded.
#include <cctype>
#include <string>
#include <utility>
#include <vector>

#include "garcon/testing.h"

namespace garcon::testing {
namespace {

// A decision as compared: its type and what identifies it.
using Key = std::pair<std::string, std::string>;

std::string Text(const Key& k) { return k.second.empty() ? k.first : k.first + " " + k.second; }

// The decision a recorded event shows was made (type, id), or an empty type
// for events that are not a decision's.
Key RecordedDecision(const Json& event) {
  const std::string type = event.value("eventType", "");
  const Json& a = EventAttributes(event);
  if (type == "ActivityTaskScheduled" || type == "ScheduleActivityTaskFailed") {
    return {"ScheduleActivityTask", a.value("activityId", "")};
  }
  if (type == "TimerStarted" || type == "StartTimerFailed") {
    return {"StartTimer", a.value("timerId", "")};
  }
  if (type == "TimerCanceled" || type == "CancelTimerFailed") {
    return {"CancelTimer", a.value("timerId", "")};
  }
  if (type == "StartChildWorkflowExecutionInitiated" ||
      (type == "StartChildWorkflowExecutionFailed" && a.contains("decisionTaskCompletedEventId"))) {
    return {"StartChildWorkflowExecution", a.value("control", "")};
  }
  if (type == "ActivityTaskCancelRequested" || type == "RequestCancelActivityTaskFailed") {
    return {"RequestCancelActivityTask", a.value("activityId", "")};
  }
  if (type == "RequestCancelExternalWorkflowExecutionInitiated" ||
      type == "RequestCancelExternalWorkflowExecutionFailed") {
    return {"RequestCancelExternalWorkflowExecution", a.value("control", "")};
  }
  if (type == "WorkflowExecutionCompleted" || type == "CompleteWorkflowExecutionFailed") {
    return {"CompleteWorkflowExecution", ""};
  }
  if (type == "WorkflowExecutionFailed" || type == "FailWorkflowExecutionFailed") {
    return {"FailWorkflowExecution", ""};
  }
  if (type == "WorkflowExecutionCanceled" || type == "CancelWorkflowExecutionFailed") {
    return {"CancelWorkflowExecution", ""};
  }
  if (type == "WorkflowExecutionContinuedAsNew" || type == "ContinueAsNewWorkflowExecutionFailed") {
    return {"ContinueAsNewWorkflowExecution", ""};
  }
  if (type == "MarkerRecorded" || type == "RecordMarkerFailed") {
    // The flow's graph changes nothing of the run's course.
    if (a.value("markerName", "") == kGraphMarker) return {"", ""};
    return {"RecordMarker", a.value("markerName", "")};
  }
  if (type == "SignalExternalWorkflowExecutionInitiated" ||
      type == "SignalExternalWorkflowExecutionFailed") {
    return {"SignalExternalWorkflowExecution", a.value("signalName", "")};
  }
  return {"", ""};
}

Key NewDecision(const Json& d) {
  const std::string type = d.value("decisionType", "");
  std::string key = type;
  key[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(key[0])));
  const Json& a = d.value(key + "DecisionAttributes", Json::object());
  if (type == "ScheduleActivityTask" || type == "RequestCancelActivityTask") {
    return {type, a.value("activityId", "")};
  }
  if (type == "StartTimer" || type == "CancelTimer") return {type, a.value("timerId", "")};
  if (type == "StartChildWorkflowExecution" || type == "RequestCancelExternalWorkflowExecution") {
    return {type, a.value("control", "")};
  }
  if (type == "RecordMarker") return {type, a.value("markerName", "")};
  if (type == "SignalExternalWorkflowExecution") return {type, a.value("signalName", "")};
  return {type, ""};
}

}  // namespace

ReplayResult Replay(const Flow& flow, const Json& history, const ExecutionRef& run) {
  ReplayResult out;
  const Json& events = history.is_object() ? history.value("events", Json::array()) : history;
  if (!events.is_array()) {
    out.ok = false;
    out.divergence = "not a history: expected {\"events\": [...]} or an array of events";
    return out;
  }
  // What the decider saw: every event up to the DecisionTaskStarted before
  // each DecisionTaskCompleted.
  HistoryState state;
  for (std::size_t i = 0; i < events.size(); ++i) {
    const Json& event = events[i];
    if (event.value("eventType", "") != "DecisionTaskCompleted") {
      state.Apply(event);
      continue;
    }
    const std::int64_t completed = event.value("eventId", std::int64_t{0});
    std::vector<Key> recorded;
    for (std::size_t j = i + 1; j < events.size(); ++j) {
      const Json& a = EventAttributes(events[j]);
      if (a.value("decisionTaskCompletedEventId", std::int64_t{-1}) != completed) continue;
      Key k = RecordedDecision(events[j]);
      if (!k.first.empty()) recorded.push_back(std::move(k));
    }
    std::vector<Key> now;
    for (const Json& d : Decide(flow, state, run)) {
      Key k = NewDecision(d);
      if (k.first == "RecordMarker" && k.second == kGraphMarker) continue;
      now.push_back(std::move(k));
    }
    ++out.decision_tasks;
    for (std::size_t k = 0; k < std::max(recorded.size(), now.size()); ++k) {
      if (k < recorded.size() && k < now.size() && recorded[k] == now[k]) continue;
      out.ok = false;
      out.event_id = completed;
      out.divergence = "decision task completed at event " + std::to_string(completed) + ": ";
      if (k >= now.size()) {
        out.divergence += "the history has " + Text(recorded[k]) + ", the flow now decides nothing more";
      } else if (k >= recorded.size()) {
        out.divergence += "the flow now also decides " + Text(now[k]) + ", which the history does not have";
      } else {
        out.divergence += "the history has " + Text(recorded[k]) + ", the flow now decides " +
                          Text(now[k]);
      }
      return out;
    }
    state.Apply(event);
  }
  return out;
}

}  // namespace garcon::testing
