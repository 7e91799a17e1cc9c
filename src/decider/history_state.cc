#include <cctype>
#include <stdexcept>

#include "garcon/decider.h"

namespace garcon {
namespace {

// An event's type, not copied (empty when it has none).
const std::string& EventType(const Json& event) {
  static const std::string kNone;
  auto it = event.find("eventType");
  return it != event.end() && it->is_string() ? it->get_ref<const std::string&>() : kNone;
}

}  // namespace

const Json& EventAttributes(const Json& event) {
  static const Json kEmpty = Json::object();
  const std::string& type = EventType(event);
  if (type.empty()) return kEmpty;
  std::string key;
  key.reserve(type.size() + 15);
  key += static_cast<char>(std::tolower(static_cast<unsigned char>(type[0])));
  key.append(type, 1);
  key += "EventAttributes";
  auto it = event.find(key);
  return it != event.end() && it->is_object() ? *it : kEmpty;
}

namespace {

// Parses a JSON object carried as text; anything else gives an empty object
// (and `ok` false).
Context ParseObject(const Json& text, bool* ok) {
  *ok = true;
  if (!text.is_string() || text.get_ref<const std::string&>().empty()) return Context::object();
  Json parsed = Json::parse(text.get_ref<const std::string&>(), nullptr, false);
  if (parsed.is_object()) return parsed;
  *ok = false;
  return Context::object();
}

}  // namespace

const Context& ActivityState::result() const {
  if (!ready_) throw NotReady();
  return result_;
}

void ActivityState::Wait() const {
  if (!ready_) throw NotReady();
}

void HistoryState::SetStatus(ActivityRecord& r, ActivityRecord::Status status) {
  if (r.status == ActivityRecord::Status::kScheduled) --(r.child ? open_children_ : open_activities_);
  r.status = status;
  if (status == ActivityRecord::Status::kScheduled) ++(r.child ? open_children_ : open_activities_);
}

const ActivityRecord* HistoryState::Find(const std::string& activity_id) const {
  auto it = activities_.find(activity_id);
  return it == activities_.end() ? nullptr : &it->second;
}

void HistoryState::Apply(const Json& event) {
  last_event_id_ = event.value("eventId", last_event_id_ + 1);
  if (auto t = event.find("eventTimestamp"); t != event.end() && t->is_number()) {
    now_ = t->get<double>();
  }
  const std::string& type = EventType(event);
  const Json& attrs = EventAttributes(event);
  // The record an attempt's event is about (it changes: logged).
  auto record_for = [&](const Json& a) -> ActivityRecord* {
    auto it = by_scheduled_event_.find(a.value("scheduledEventId", std::int64_t{0}));
    if (it == by_scheduled_event_.end()) return nullptr;
    Changed(it->second);
    return &activities_[it->second];
  };
  // A new attempt of an activity id, by ActivityTaskScheduled or
  // StartChildWorkflowExecutionInitiated.
  auto begin_attempt = [&](const std::string& id, bool child) -> ActivityRecord& {
    auto [it, fresh] = activities_.try_emplace(id);
    ActivityRecord& r = it->second;
    if (fresh) {
      // Not counted open yet, whatever its default status says.
      r.status = ActivityRecord::Status::kFailed;
    }
    if (child && !r.child) {
      SetStatus(r, ActivityRecord::Status::kFailed);
      r.child = true;
    }
    if (r.scheduled_event_id == 0) r.first_scheduled_time = now_;
    SetStatus(r, ActivityRecord::Status::kScheduled);
    Changed(id);
    r.scheduled_event_id = last_event_id_;
    r.cancel_requested = false;
    r.backoff = ActivityRecord::Backoff::kNone;
    by_scheduled_event_[last_event_id_] = id;
    return r;
  };
  // A completion: its result merged, or a failed attempt when the result
  // is not a JSON object (a worker of another language, say).
  auto complete = [&](ActivityRecord& r, const std::string& not_an_object) {
    bool ok = true;
    Context result = ParseObject(attrs.value("result", Json()), &ok);
    if (ok) {
      SetStatus(r, ActivityRecord::Status::kCompleted);
      r.result = std::move(result);
      context_.update(r.result);
      return;
    }
    SetStatus(r, ActivityRecord::Status::kFailed);
    r.failures++;
    r.last_reason = not_an_object;
    r.last_details = attrs.value("result", std::string());
    if (r.last_details.size() > 1024) r.last_details.resize(1024);
  };

  if (type == "WorkflowExecutionStarted") {
    bool ok = true;
    input_ = ParseObject(attrs.value("input", Json()), &ok);
    if (!ok) fatal_error_ = "the workflow input must be a JSON object";
    context_ = input_;
    const Json& task_list = attrs.value("taskList", Json::object());
    if (task_list.is_object()) task_list_ = task_list.value("name", "");
    const Json& workflow_type = attrs.value("workflowType", Json::object());
    if (workflow_type.is_object()) workflow_version_ = workflow_type.value("version", "");
  } else if (type == "ActivityTaskScheduled") {
    begin_attempt(attrs.value("activityId", ""), false);
  } else if (type == "ActivityTaskCompleted") {
    if (ActivityRecord* r = record_for(attrs)) complete(*r, "the result is not a JSON object");
  } else if (type == "ActivityTaskFailed" || type == "ActivityTaskTimedOut" ||
             type == "ActivityTaskCanceled") {
    if (ActivityRecord* r = record_for(attrs)) {
      SetStatus(*r, ActivityRecord::Status::kFailed);
      r->failures++;
      if (type == "ActivityTaskFailed") {
        r->last_reason = attrs.value("reason", "activity failed");
        r->last_details = attrs.value("details", "");
      } else if (type == "ActivityTaskTimedOut") {
        r->last_reason = "timed out: " + attrs.value("timeoutType", std::string("unknown"));
        r->last_details = attrs.value("details", "");
      } else {
        r->last_reason = "canceled";
        r->last_details = attrs.value("details", "");
      }
    }
  } else if (type == "ActivityTaskCancelRequested" || type == "RequestCancelActivityTaskFailed") {
    auto it = activities_.find(attrs.value("activityId", ""));
    if (it != activities_.end()) it->second.cancel_requested = true;
  } else if (type == "WorkflowExecutionCancelRequested") {
    cancel_requested_ = true;
    if (attrs.contains("cause")) {
      cancel_details_ = "cancellation requested: " + attrs.value("cause", std::string());
    } else if (attrs.contains("externalWorkflowExecution")) {
      const Json& by = attrs["externalWorkflowExecution"];
      cancel_details_ = "cancellation requested by workflow " +
                        (by.is_object() ? by.value("workflowId", std::string("?")) : "?");
    } else {
      cancel_details_ = "cancellation requested";
    }
  } else if (type == "StartChildWorkflowExecutionInitiated") {
    ActivityRecord& r = begin_attempt(attrs.value("control", ""), true);
    r.child_workflow_id = attrs.value("workflowId", "");
    r.child_run_id.clear();
  } else if (type == "ChildWorkflowExecutionStarted") {
    auto it = by_scheduled_event_.find(attrs.value("initiatedEventId", std::int64_t{0}));
    if (it != by_scheduled_event_.end()) {
      const Json& execution = attrs.value("workflowExecution", Json::object());
      if (execution.is_object()) activities_[it->second].child_run_id = execution.value("runId", "");
    }
  } else if (type == "ChildWorkflowExecutionCompleted" || type == "ChildWorkflowExecutionFailed" ||
             type == "ChildWorkflowExecutionTimedOut" || type == "ChildWorkflowExecutionCanceled" ||
             type == "ChildWorkflowExecutionTerminated" ||
             type == "StartChildWorkflowExecutionFailed") {
    auto it = by_scheduled_event_.find(attrs.value("initiatedEventId", std::int64_t{0}));
    ActivityRecord* r = nullptr;
    if (it != by_scheduled_event_.end()) {
      r = &activities_[it->second];
      Changed(it->second);
    } else if (type == "StartChildWorkflowExecutionFailed") {
      // Refused before it was initiated: found by its control.
      auto by_control = activities_.find(attrs.value("control", ""));
      if (by_control != activities_.end()) {
        r = &by_control->second;
        Changed(by_control->first);
      }
    }
    if (r != nullptr) {
      bool ok = true;
      Context result;
      if (type == "ChildWorkflowExecutionCompleted") {
        result = ParseObject(attrs.value("result", Json()), &ok);
      }
      if (type == "ChildWorkflowExecutionCompleted" && ok) {
        SetStatus(*r, ActivityRecord::Status::kCompleted);
        r->result = std::move(result);
        context_.update(r->result);
        // A slice's given-up instances stay with its record (the flow decider
        // counts them), not in the context.
        context_.erase(kSliceFailedKey);
      } else {
        SetStatus(*r, ActivityRecord::Status::kFailed);
        r->failures++;
        r->last_details = attrs.value("details", "");
        if (type == "ChildWorkflowExecutionCompleted") {
          r->last_reason = "the child's result is not a JSON object";
          r->last_details = attrs.value("result", std::string());
        } else if (type == "ChildWorkflowExecutionFailed") {
          r->last_reason = "child failed: " + attrs.value("reason", std::string());
        } else if (type == "ChildWorkflowExecutionTimedOut") {
          r->last_reason = "child timed out: " + attrs.value("timeoutType", std::string("?"));
        } else if (type == "ChildWorkflowExecutionCanceled") {
          r->last_reason = "child canceled";
        } else if (type == "ChildWorkflowExecutionTerminated") {
          r->last_reason = "child terminated";
        } else {
          r->last_reason = "could not start the child: " + attrs.value("cause", std::string("?"));
        }
      }
    }
  } else if (type == "RequestCancelExternalWorkflowExecutionInitiated" ||
             type == "RequestCancelExternalWorkflowExecutionFailed") {
    auto it = activities_.find(attrs.value("control", ""));
    if (it != activities_.end()) it->second.cancel_requested = true;
  } else if (type == "DecisionTaskCompleted") {
    ++decisions_completed_;
  } else if (type == "MarkerRecorded") {
    if (attrs.value("markerName", "") == kGraphMarker) graph_recorded_ = true;
  } else if (type == "TimerStarted") {
    const std::string id = attrs.value("timerId", "");
    const std::string control = attrs.value("control", "");
    // SWF never records a timer without an id; a history that does is not
    // one to answer with CancelTimer decisions SWF would refuse.
    if (!id.empty()) open_timers_[id] = control;
    if (id.starts_with("retry-")) {
      if (auto it = activities_.find(control); it != activities_.end()) {
        it->second.backoff = ActivityRecord::Backoff::kWaiting;
        Changed(it->first);
      }
    }
  } else if (type == "TimerFired" || type == "TimerCanceled") {
    auto timer = open_timers_.find(attrs.value("timerId", ""));
    if (timer != open_timers_.end()) {
      if (type == "TimerFired") fired_timers_.insert(timer->first);
      if (type == "TimerFired" && timer->first.starts_with("retry-")) {
        if (auto it = activities_.find(timer->second); it != activities_.end()) {
          it->second.backoff = ActivityRecord::Backoff::kDone;
          Changed(it->first);
        }
      }
      open_timers_.erase(timer);
    }
  } else if (type == "WorkflowExecutionSignaled") {
    const std::string name = attrs.value("signalName", "");
    bool ok = true;
    Context input = ParseObject(attrs.value("input", Json()), &ok);
    if (!ok) input = Context{{name, attrs.value("input", std::string())}};
    // Like an activity's result: merged into the context in event order.
    context_.update(input);
    signals_[name] = std::move(input);
  } else if (type == "StartTimerFailed") {
    fatal_error_ = "could not start timer " + attrs.value("timerId", std::string()) + ": " +
                   attrs.value("cause", std::string("unknown cause"));
  } else if (type == "ScheduleActivityTaskFailed") {
    fatal_error_ = "could not schedule activity " + attrs.value("activityId", std::string()) +
                   ": " + attrs.value("cause", std::string("unknown cause"));
  } else if (type == "WorkflowExecutionCompleted" || type == "WorkflowExecutionFailed" ||
             type == "WorkflowExecutionCanceled" || type == "WorkflowExecutionTerminated" ||
             type == "WorkflowExecutionTimedOut" || type == "WorkflowExecutionContinuedAsNew") {
    closed_ = true;
  }
}

}  // namespace garcon
