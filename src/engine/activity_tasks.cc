// Activity tasks from the worker's side: starting one for a poll,
// heartbeats, the three responds; and the pending-task counts.
#include "base/status_macros.h"
#include "engine/durations.h"
#include "engine/engine_impl.h"

namespace garcon::engine {
Result<Json> EngineImpl::StartActivityTask(RunState& run, ActivityTaskState& activity,
                                           const PollParams& params) {
  activity.queued = QueuePosition{};
  CancelDeadline(&activity.schedule_to_start_deadline);
  Json attributes = Json::object();
  SetIf(attributes, "identity", params.identity);
  attributes["scheduledEventId"] = activity.scheduled_event_id;
  activity.started_event_id = AppendEvent(run, "ActivityTaskStarted", std::move(attributes));
  activity.identity = params.identity;
  activity.token_secret = NewSecret();
  if (auto seconds = DurationSeconds(activity.start_to_close_timeout)) {
    Deadline deadline;
    deadline.kind = DeadlineKind::kActivityStartToClose;
    deadline.run_id = run.run_id;
    deadline.event_id = activity.scheduled_event_id;
    activity.start_to_close_deadline = AddDeadlineAfter(*seconds, std::move(deadline));
  }
  ArmHeartbeat(run, activity);
  TouchActivity(run, activity.scheduled_event_id);

  TaskToken token;
  token.kind = TaskKind::kActivity;
  token.run_id = run.run_id;
  token.scheduled_event_id = activity.scheduled_event_id;
  token.started_event_id = activity.started_event_id;
  token.secret = activity.token_secret;
  Json response = Object("taskToken", EncodeTaskToken(token),
                         "activityId", activity.activity_id,
                         "startedEventId", activity.started_event_id,
                         "workflowExecution", ExecutionJson(run.workflow_id, run.run_id),
                         "activityType", TypeJson(activity.type.first, activity.type.second));
  SetIf(response, "input", activity.input);
  return response;
}

void EngineImpl::ArmHeartbeat(RunState& run, ActivityTaskState& activity) {
  CancelDeadline(&activity.heartbeat_deadline);
  if (auto seconds = DurationSeconds(activity.heartbeat_timeout)) {
    Deadline deadline;
    deadline.kind = DeadlineKind::kActivityHeartbeat;
    deadline.run_id = run.run_id;
    deadline.event_id = activity.scheduled_event_id;
    activity.heartbeat_deadline = AddDeadlineAfter(*seconds, std::move(deadline));
  }
}

Result<Json> EngineImpl::RecordActivityTaskHeartbeat(const Json& request) {
  ASSIGN_OR_RETURN(auto task, ActivityForToken(StringOr(request, "taskToken")));
  auto [run, activity] = task;
  if (auto details = OptString(request, "details")) activity->heartbeat_details = *details;
  ArmHeartbeat(*run, *activity);
  TouchActivity(*run, activity->scheduled_event_id);
  return Object("cancelRequested", activity->cancel_requested);
}

Result<Json> EngineImpl::RespondActivityTaskCompleted(const Json& request) {
  ASSIGN_OR_RETURN(auto task, ActivityForToken(StringOr(request, "taskToken")));
  auto [run, activity] = task;
  Json attributes = Json::object();
  SetIf(attributes, "result", OptString(request, "result"));
  attributes["scheduledEventId"] = activity->scheduled_event_id;
  attributes["startedEventId"] = activity->started_event_id;
  const EventId scheduled = activity->scheduled_event_id;
  AppendEvent(*run, "ActivityTaskCompleted", std::move(attributes));
  CloseActivity(*run, scheduled);
  NeedDecision(*run);
  return Json::object();
}

Result<Json> EngineImpl::RespondActivityTaskFailed(const Json& request) {
  ASSIGN_OR_RETURN(auto task, ActivityForToken(StringOr(request, "taskToken")));
  auto [run, activity] = task;
  Json attributes = Json::object();
  SetIf(attributes, "reason", OptString(request, "reason"));
  SetIf(attributes, "details", OptString(request, "details"));
  attributes["scheduledEventId"] = activity->scheduled_event_id;
  attributes["startedEventId"] = activity->started_event_id;
  const EventId scheduled = activity->scheduled_event_id;
  AppendEvent(*run, "ActivityTaskFailed", std::move(attributes));
  CloseActivity(*run, scheduled);
  NeedDecision(*run);
  return Json::object();
}

Result<Json> EngineImpl::RespondActivityTaskCanceled(const Json& request) {
  ASSIGN_OR_RETURN(auto task, ActivityForToken(StringOr(request, "taskToken")));
  auto [run, activity] = task;
  Json attributes = Json::object();
  SetIf(attributes, "details", OptString(request, "details"));
  attributes["scheduledEventId"] = activity->scheduled_event_id;
  attributes["startedEventId"] = activity->started_event_id;
  if (activity->latest_cancel_requested_event_id != 0) {
    attributes["latestCancelRequestedEventId"] = activity->latest_cancel_requested_event_id;
  }
  const EventId scheduled = activity->scheduled_event_id;
  AppendEvent(*run, "ActivityTaskCanceled", std::move(attributes));
  CloseActivity(*run, scheduled);
  NeedDecision(*run);
  return Json::object();
}

Result<Json> EngineImpl::CountPendingActivityTasks(const Json& request) {
  const std::string domain = StringOr(request, "domain");
  RETURN_IF_ERROR(RequireDomain(domain).status());
  auto it = activity_queues_.find(QueueKey(domain, *OptTaskList(request, "taskList")));
  const std::size_t count = it == activity_queues_.end() ? 0 : it->second.size();
  return Object("count", count, "truncated", false);
}

Result<Json> EngineImpl::CountPendingDecisionTasks(const Json& request) {
  const std::string domain = StringOr(request, "domain");
  RETURN_IF_ERROR(RequireDomain(domain).status());
  auto it = decision_queues_.find(QueueKey(domain, *OptTaskList(request, "taskList")));
  const std::size_t count = it == decision_queues_.end() ? 0 : it->second.size();
  return Object("count", count, "truncated", false);
}

}  // namespace garcon::engine
