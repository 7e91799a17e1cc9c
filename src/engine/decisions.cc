// Decision tasks from the decider's side: starting one for a poll (with its
// history pages) and RespondDecisionTaskCompleted with every decision type.
#include <functional>
#include <set>

#include "base/status_macros.h"
#include "engine/durations.h"
#include "engine/engine_impl.h"

namespace garcon::engine {

struct EngineImpl::DecisionContext {
  EventId completed_event_id = 0;
  // Events needing a decision arrived while the task was started: close
  // decisions fail with UNHANDLED_DECISION.
  bool unhandled = false;
  bool is_last = false;
  // Effects on other runs (signals, cancel requests, children), applied
  // once every decision of the response has written its events.
  std::vector<std::function<void()>> after;
};

namespace {

Status ValidateDecision(const Json& decision, std::size_t index) {
  static const std::set<std::string_view> kAttributesRequired = {
      "ScheduleActivityTask",
      "RequestCancelActivityTask",
      "RecordMarker",
      "StartTimer",
      "CancelTimer",
      "SignalExternalWorkflowExecution",
      "RequestCancelExternalWorkflowExecution",
      "StartChildWorkflowExecution",
      "ScheduleLambdaFunction"};
  const std::string type = StringOr(decision, "decisionType");
  const std::string key = DecisionAttributesKey(type);
  const std::string path = "decisions." + std::to_string(index + 1) + ".member." + key;
  auto it = decision.find(key);
  if (it == decision.end() || !it->is_object()) {
    if (kAttributesRequired.count(type) > 0) {
      return ValidationError("1 validation error detected: Value null at '" + path +
                             "' failed to satisfy constraint: Member must not be null");
    }
    return Status::Ok();
  }
  const Json& attributes = *it;
  const auto duration = [&](const char* field, bool allow_none) -> Status {
    auto value = OptString(attributes, field);
    if (!value) return Status::Ok();
    return CheckDuration(*value, path + "." + field, allow_none);
  };
  const auto priority = [&]() -> Status {
    auto value = OptString(attributes, "taskPriority");
    if (!value) return Status::Ok();
    std::int64_t ignored = 0;
    return ParsePriority(*value, path + ".taskPriority", &ignored);
  };
  if (type == "ScheduleActivityTask") {
    RETURN_IF_ERROR(duration("scheduleToStartTimeout", true));
    RETURN_IF_ERROR(duration("scheduleToCloseTimeout", true));
    RETURN_IF_ERROR(duration("startToCloseTimeout", true));
    RETURN_IF_ERROR(duration("heartbeatTimeout", true));
    RETURN_IF_ERROR(priority());
  } else if (type == "StartTimer") {
    RETURN_IF_ERROR(duration("startToFireTimeout", false));
  } else if (type == "StartChildWorkflowExecution" || type == "ContinueAsNewWorkflowExecution") {
    RETURN_IF_ERROR(duration("executionStartToCloseTimeout", false));
    RETURN_IF_ERROR(duration("taskStartToCloseTimeout", true));
    RETURN_IF_ERROR(priority());
    std::optional<std::int64_t> seconds;
    if (auto value = OptString(attributes, "executionStartToCloseTimeout")) {
      RETURN_IF_ERROR(ParseDuration(*value, path, false, &seconds));
      if (seconds && *seconds > kMaxExecutionSeconds) {
        return ValidationError("executionStartToCloseTimeout exceeds one year at '" + path + "'");
      }
    }
  } else if (type == "ScheduleLambdaFunction") {
    RETURN_IF_ERROR(duration("startToCloseTimeout", true));
  }
  return Status::Ok();
}

// The value of `field` in `attributes`, else the type's default.
std::optional<std::string> OrDefault(const Json& attributes, const char* field,
                                     const std::optional<std::string>& fallback) {
  auto value = OptString(attributes, field);
  return value ? value : fallback;
}

}  // namespace

// --- starting a decision task ------------------------------------------------------

Result<Json> EngineImpl::StartDecisionTask(RunState& run, EventId scheduled_event_id,
                                           const PollParams& params) {
  DecisionTaskState& decision = run.decision;
  if (decision.scheduled_event_id != scheduled_event_id || decision.started_event_id != 0) {
    return UnknownResource("stale task");
  }
  decision.queued = QueuePosition{};
  CancelDeadline(&decision.schedule_to_start_deadline);
  Json attributes = Json::object();
  SetIf(attributes, "identity", params.identity);
  attributes["scheduledEventId"] = scheduled_event_id;
  decision.started_event_id = AppendEvent(run, "DecisionTaskStarted", std::move(attributes));
  decision.token_secret = NewSecret();
  if (auto seconds = DurationSeconds(run.task_start_to_close_timeout)) {
    Deadline deadline;
    deadline.kind = DeadlineKind::kDecisionStartToClose;
    deadline.run_id = run.run_id;
    deadline.event_id = decision.started_event_id;
    decision.start_to_close_deadline = AddDeadlineAfter(*seconds, std::move(deadline));
  }
  TaskToken token;
  token.kind = TaskKind::kDecision;
  token.run_id = run.run_id;
  token.scheduled_event_id = scheduled_event_id;
  token.started_event_id = decision.started_event_id;
  token.secret = decision.token_secret;
  const EventId previous = run.previous_started_event_id;
  const EventId first = params.start_at_previous && previous > 0 ? previous : 1;
  return DecisionTaskResponse(run, EncodeTaskToken(token), decision.started_event_id, previous,
                              first, std::nullopt, params);
}

Result<Json> EngineImpl::DecisionTaskResponse(const RunState& run, const std::string& token,
                                              EventId started_event_id,
                                              EventId previous_started_event_id,
                                              EventId first_event_id, std::optional<EventId> cursor,
                                              const PollParams& params) {
  EventPage page = PageEvents(run.events, first_event_id, started_event_id, cursor,
                              params.page_size, params.reverse);
  Json response = Object("taskToken", token,
                         "startedEventId", started_event_id,
                         "previousStartedEventId", previous_started_event_id,
                         "workflowExecution", ExecutionJson(run.workflow_id, run.run_id),
                         "workflowType", TypeJson(run.type.first, run.type.second),
                         "events", std::move(page.events));
  if (page.next) {
    response["nextPageToken"] = EncodePageToken("decision", Object("d", run.domain,
                                                                   "r", run.run_id,
                                                                   "t", token,
                                                                   "s", started_event_id,
                                                                   "p", previous_started_event_id,
                                                                   "f", first_event_id,
                                                                   "n", *page.next,
                                                                   "rv", params.reverse));
  }
  return response;
}

Result<Json> EngineImpl::DecisionPageFromToken(const Json& request) {
  ASSIGN_OR_RETURN(Json fields, DecodePageToken(StringOr(request, "nextPageToken"), "decision"));
  const Status corrupt = ValidationError("Invalid nextPageToken for this decision task poll");
  const std::string domain = StringOr(request, "domain");
  if (!fields["d"].is_string() || fields["d"] != domain || !fields["r"].is_string() ||
      !fields["t"].is_string() || !fields["s"].is_number_integer() ||
      !fields["p"].is_number_integer() || !fields["f"].is_number_integer() ||
      !fields["n"].is_number_integer() || !fields["rv"].is_boolean()) {
    return corrupt;
  }
  const std::string run_id = fields["r"].get<std::string>();
  const auto started = fields["s"].get<EventId>();
  const auto first = fields["f"].get<EventId>();
  const auto next = fields["n"].get<EventId>();
  PollParams params;
  params.page_size = PageSize(request);
  params.reverse = fields["rv"].get<bool>();
  const std::string token = fields["t"].get<std::string>();
  const EventId previous = fields["p"].get<EventId>();
  const auto valid = [started, first, next](EventId count) {
    return started >= 1 && started <= count && first >= 1 && next >= first && next <= started;
  };
  if (const RunState* run = FindRun(run_id)) {
    if (run->domain != domain || !valid(static_cast<EventId>(run->events.size()))) return corrupt;
    return DecisionTaskResponse(*run, token, started, previous, first, next, params);
  }
  // The run has closed since: its history is read from the store.
  pending_read_ = [=](store::Store& store) -> Result<Json> {
    ASSIGN_OR_RETURN(auto record, store.FindRun(run_id));
    if (!record || record->domain != domain) return corrupt;
    const EventId count = StoredEventCount(*record);
    if (!valid(count)) return corrupt;
    ASSIGN_OR_RETURN(EventPage page, PageStoredEvents(store, run_id, count, first, started, next,
                                                      params.page_size, params.reverse));
    Json response = Object("taskToken", token,
                           "startedEventId", started,
                           "previousStartedEventId", previous,
                           "workflowExecution", ExecutionJson(record->workflow_id, run_id),
                           "workflowType", TypeJson(record->type_name, record->type_version),
                           "events", std::move(page.events));
    if (page.next) {
      response["nextPageToken"] = EncodePageToken(
          "decision", Object("d", domain,
                             "r", run_id,
                             "t", token,
                             "s", started,
                             "p", previous,
                             "f", first,
                             "n", *page.next,
                             "rv", params.reverse));
    }
    return response;
  };
  return Json::object();
}

// --- RespondDecisionTaskCompleted ----------------------------------------------------

Result<Json> EngineImpl::RespondDecisionTaskCompleted(const Json& request) {
  ASSIGN_OR_RETURN(RunState * run, RunForDecisionToken(StringOr(request, "taskToken")));
  static const Json kNoDecisions = Json::array();
  auto it = request.find("decisions");
  const Json& decisions = it != request.end() && it->is_array() ? *it : kNoDecisions;
  // All or nothing: a malformed decision rejects the whole response.
  for (std::size_t i = 0; i < decisions.size(); ++i) {
    RETURN_IF_ERROR(ValidateDecision(decisions[i], i));
  }
  const auto task_list = OptTaskList(request, "taskList");
  const auto task_list_timeout = OptString(request, "taskListScheduleToStartTimeout");
  if (task_list_timeout) {
    RETURN_IF_ERROR(CheckDuration(*task_list_timeout, "taskListScheduleToStartTimeout", true));
  }

  DecisionTaskState& decision = run->decision;
  CancelDeadline(&decision.start_to_close_deadline);
  Json attributes = Json::object();
  const auto context_text = OptString(request, "executionContext");
  SetIf(attributes, "executionContext", context_text);
  attributes["scheduledEventId"] = decision.scheduled_event_id;
  attributes["startedEventId"] = decision.started_event_id;
  if (task_list) {
    attributes["taskList"] = TaskListJson(*task_list);
    SetIf(attributes, "taskListScheduleToStartTimeout", task_list_timeout);
    // Future decision tasks go to the override list.
    run->decision_task_list_override = *task_list;
    run->decision_task_list_timeout = task_list_timeout;
  }
  DecisionContext context;
  context.completed_event_id = AppendEvent(*run, "DecisionTaskCompleted", std::move(attributes));
  if (context_text) {
    run->latest_execution_context = *context_text;
    if (journal_all_) Dirty(*run).context = true;
  }
  run->previous_started_event_id = decision.started_event_id;
  context.unhandled = decision.pending;

  // The task stays "started" while its decisions apply, so the events they
  // cause that need a decision are batched into one new decision task.
  for (std::size_t i = 0; i < decisions.size(); ++i) {
    if (!run->open || run->over_event_limit) break;
    context.is_last = i + 1 == decisions.size();
    ApplyDecision(*run, decisions[i], context);
  }
  for (auto& effect : context.after) effect();
  if (run->open) {
    const bool pending = run->decision.pending;
    run->decision = DecisionTaskState{};
    if (pending) ScheduleDecisionTask(*run);
  }
  return Json::object();
}

void EngineImpl::ApplyDecision(RunState& run, const Json& decision, DecisionContext& context) {
  const std::string type = StringOr(decision, "decisionType");
  static const Json kNoAttributes = Json::object();
  auto it = decision.find(DecisionAttributesKey(type));
  const Json& attributes = it != decision.end() && it->is_object() ? *it : kNoAttributes;
  if (type == "ScheduleActivityTask") {
    DecideScheduleActivityTask(run, attributes, context);
  } else if (type == "RequestCancelActivityTask") {
    DecideRequestCancelActivityTask(run, attributes, context);
  } else if (type == "CompleteWorkflowExecution" || type == "FailWorkflowExecution" ||
             type == "CancelWorkflowExecution") {
    DecideClose(run, type, attributes, context);
  } else if (type == "ContinueAsNewWorkflowExecution") {
    DecideContinueAsNew(run, attributes, context);
  } else if (type == "RecordMarker") {
    Json event = Object("markerName", StringOr(attributes, "markerName"));
    SetIf(event, "details", OptString(attributes, "details"));
    event["decisionTaskCompletedEventId"] = context.completed_event_id;
    AppendEvent(run, "MarkerRecorded", std::move(event));
  } else if (type == "StartTimer") {
    DecideStartTimer(run, attributes, context);
  } else if (type == "CancelTimer") {
    DecideCancelTimer(run, attributes, context);
  } else if (type == "SignalExternalWorkflowExecution") {
    DecideSignalExternal(run, attributes, context);
  } else if (type == "RequestCancelExternalWorkflowExecution") {
    DecideRequestCancelExternal(run, attributes, context);
  } else if (type == "StartChildWorkflowExecution") {
    DecideStartChild(run, attributes, context);
  } else if (type == "ScheduleLambdaFunction") {
    // No Lambda in the embedded engine: the decision fails as it does where
    // SWF has no Lambda service.
    AppendEvent(run, "ScheduleLambdaFunctionFailed",
                Object("id", StringOr(attributes, "id"),
                       "name", StringOr(attributes, "name"),
                       "cause", "LAMBDA_SERVICE_NOT_AVAILABLE_IN_REGION",
                       "decisionTaskCompletedEventId", context.completed_event_id));
    NeedDecision(run);
  }
}

void EngineImpl::DecideScheduleActivityTask(RunState& run, const Json& attributes,
                                            DecisionContext& context) {
  const Json& type_json = Member(attributes, "activityType");
  const TypeKey key{StringOr(type_json, "name"), StringOr(type_json, "version")};
  const std::string activity_id = StringOr(attributes, "activityId");
  const auto fail = [&](std::string_view cause) {
    AppendEvent(run, "ScheduleActivityTaskFailed",
                Object("activityType", TypeJson(key.first, key.second),
                       "activityId", activity_id,
                       "cause", cause,
                       "decisionTaskCompletedEventId", context.completed_event_id));
    NeedDecision(run);
  };
  DomainState* domain = FindDomain(run.domain);
  auto type_it = domain->activity_types.find(key);
  if (type_it == domain->activity_types.end()) return fail("ACTIVITY_TYPE_DOES_NOT_EXIST");
  const ActivityTypeState& type = type_it->second;
  if (type.deprecated) return fail("ACTIVITY_TYPE_DEPRECATED");
  if (run.activity_ids.count(activity_id) > 0) return fail("ACTIVITY_ID_ALREADY_IN_USE");
  if (run.activities.size() >= kMaxOpenActivities) return fail("OPEN_ACTIVITIES_LIMIT_EXCEEDED");
  auto task_list = OptTaskList(attributes, "taskList");
  if (!task_list) task_list = type.default_task_list;
  if (!task_list) return fail("DEFAULT_TASK_LIST_UNDEFINED");
  auto schedule_to_start =
      OrDefault(attributes, "scheduleToStartTimeout", type.default_task_schedule_to_start_timeout);
  if (!schedule_to_start) return fail("DEFAULT_SCHEDULE_TO_START_TIMEOUT_UNDEFINED");
  auto schedule_to_close =
      OrDefault(attributes, "scheduleToCloseTimeout", type.default_task_schedule_to_close_timeout);
  if (!schedule_to_close) return fail("DEFAULT_SCHEDULE_TO_CLOSE_TIMEOUT_UNDEFINED");
  auto start_to_close =
      OrDefault(attributes, "startToCloseTimeout", type.default_task_start_to_close_timeout);
  if (!start_to_close) return fail("DEFAULT_START_TO_CLOSE_TIMEOUT_UNDEFINED");
  auto heartbeat = OrDefault(attributes, "heartbeatTimeout", type.default_task_heartbeat_timeout);
  if (!heartbeat) return fail("DEFAULT_HEARTBEAT_TIMEOUT_UNDEFINED");
  const auto priority = OrDefault(attributes, "taskPriority", type.default_task_priority);

  Json event = Object("activityType", TypeJson(key.first, key.second), "activityId", activity_id);
  SetIf(event, "input", OptString(attributes, "input"));
  SetIf(event, "control", OptString(attributes, "control"));
  event["scheduleToStartTimeout"] = *schedule_to_start;
  event["scheduleToCloseTimeout"] = *schedule_to_close;
  event["startToCloseTimeout"] = *start_to_close;
  event["heartbeatTimeout"] = *heartbeat;
  event["taskList"] = TaskListJson(*task_list);
  SetIf(event, "taskPriority", priority);
  event["decisionTaskCompletedEventId"] = context.completed_event_id;
  const EventId scheduled = AppendEvent(run, "ActivityTaskScheduled", std::move(event));

  ActivityTaskState& activity = run.activities[scheduled];
  activity.scheduled_event_id = scheduled;
  activity.activity_id = activity_id;
  activity.type = key;
  activity.input = OptString(attributes, "input");
  activity.task_list = *task_list;
  activity.priority = PriorityOrZero(priority);
  activity.schedule_to_start_timeout = *schedule_to_start;
  activity.schedule_to_close_timeout = *schedule_to_close;
  activity.start_to_close_timeout = *start_to_close;
  activity.heartbeat_timeout = *heartbeat;
  run.activity_ids[activity_id] = scheduled;
  run.latest_activity_task_timestamp = now_;
  TouchActivity(run, scheduled);
  const auto arm = [&](const std::string& duration, DeadlineKind kind) -> DeadlineId {
    auto seconds = DurationSeconds(duration);
    if (!seconds) return 0;
    Deadline deadline;
    deadline.kind = kind;
    deadline.run_id = run.run_id;
    deadline.event_id = scheduled;
    return AddDeadlineAfter(*seconds, std::move(deadline));
  };
  activity.schedule_to_start_deadline =
      arm(activity.schedule_to_start_timeout, DeadlineKind::kActivityScheduleToStart);
  activity.schedule_to_close_deadline =
      arm(activity.schedule_to_close_timeout, DeadlineKind::kActivityScheduleToClose);
  EnqueueTask(TaskKind::kActivity, QueueKey(run.domain, activity.task_list), activity.priority,
              QueuedTask{run.run_id, scheduled}, &activity.queued);
}

void EngineImpl::DecideRequestCancelActivityTask(RunState& run, const Json& attributes,
                                                 DecisionContext& context) {
  const std::string activity_id = StringOr(attributes, "activityId");
  auto id = run.activity_ids.find(activity_id);
  if (id == run.activity_ids.end()) {
    AppendEvent(run, "RequestCancelActivityTaskFailed",
                Object("activityId", activity_id,
                       "cause", "ACTIVITY_ID_UNKNOWN",
                       "decisionTaskCompletedEventId", context.completed_event_id));
    NeedDecision(run);
    return;
  }
  const EventId scheduled = id->second;
  ActivityTaskState& activity = run.activities.at(scheduled);
  const EventId requested =
      AppendEvent(run, "ActivityTaskCancelRequested",
                  Object("decisionTaskCompletedEventId", context.completed_event_id,
                         "activityId", activity_id));
  activity.cancel_requested = true;
  activity.latest_cancel_requested_event_id = requested;
  TouchActivity(run, scheduled);
  if (activity.started_event_id == 0) {
    // Not handed to a worker yet: canceled at once.
    AppendEvent(run, "ActivityTaskCanceled",
                Object("scheduledEventId", scheduled,
                       "startedEventId", 0,
                       "latestCancelRequestedEventId", requested));
    CloseActivity(run, scheduled);
    NeedDecision(run);
  }
}

void EngineImpl::DecideStartTimer(RunState& run, const Json& attributes, DecisionContext& context) {
  const std::string timer_id = StringOr(attributes, "timerId");
  const auto fail = [&](std::string_view cause) {
    AppendEvent(run, "StartTimerFailed",
                Object("timerId", timer_id,
                       "cause", cause,
                       "decisionTaskCompletedEventId", context.completed_event_id));
    NeedDecision(run);
  };
  if (run.timers.count(timer_id) > 0) return fail("TIMER_ID_ALREADY_IN_USE");
  if (run.timers.size() >= kMaxOpenTimers) return fail("OPEN_TIMERS_LIMIT_EXCEEDED");
  const std::string fire_after = StringOr(attributes, "startToFireTimeout");
  Json event = Object("timerId", timer_id);
  SetIf(event, "control", OptString(attributes, "control"));
  event["startToFireTimeout"] = fire_after;
  event["decisionTaskCompletedEventId"] = context.completed_event_id;
  const EventId started = AppendEvent(run, "TimerStarted", std::move(event));
  TimerState& timer = run.timers[timer_id];
  timer.timer_id = timer_id;
  timer.started_event_id = started;
  TouchTimer(run, timer_id);
  Deadline deadline;
  deadline.kind = DeadlineKind::kTimer;
  deadline.run_id = run.run_id;
  deadline.event_id = started;
  deadline.name = timer_id;
  timer.deadline = AddDeadlineAfter(DurationSeconds(fire_after).value_or(0), std::move(deadline));
}

void EngineImpl::DecideCancelTimer(RunState& run, const Json& attributes,
                                   DecisionContext& context) {
  const std::string timer_id = StringOr(attributes, "timerId");
  auto it = run.timers.find(timer_id);
  if (it == run.timers.end()) {
    AppendEvent(run, "CancelTimerFailed",
                Object("timerId", timer_id,
                       "cause", "TIMER_ID_UNKNOWN",
                       "decisionTaskCompletedEventId", context.completed_event_id));
    NeedDecision(run);
    return;
  }
  const EventId started = it->second.started_event_id;
  CancelDeadline(&it->second.deadline);
  run.timers.erase(it);
  TouchTimer(run, timer_id);
  AppendEvent(run, "TimerCanceled",
              Object("timerId", timer_id,
                     "startedEventId", started,
                     "decisionTaskCompletedEventId", context.completed_event_id));
}

void EngineImpl::DecideClose(RunState& run, std::string_view type, const Json& attributes,
                             DecisionContext& context) {
  if (context.unhandled || !context.is_last) {
    // New events arrived since the task started (or decisions follow the
    // close): the decider must see them first.
    AppendEvent(run, std::string(type) + "Failed",
                Object("cause", "UNHANDLED_DECISION",
                       "decisionTaskCompletedEventId", context.completed_event_id));
    NeedDecision(run);
    return;
  }
  Json event = Json::object();
  Json parent_extra = Json::object();
  std::string event_type;
  std::string close_status;
  if (type == "CompleteWorkflowExecution") {
    SetIf(event, "result", OptString(attributes, "result"));
    SetIf(parent_extra, "result", OptString(attributes, "result"));
    event_type = "WorkflowExecutionCompleted";
    close_status = "COMPLETED";
  } else if (type == "FailWorkflowExecution") {
    SetIf(event, "reason", OptString(attributes, "reason"));
    SetIf(event, "details", OptString(attributes, "details"));
    SetIf(parent_extra, "reason", OptString(attributes, "reason"));
    SetIf(parent_extra, "details", OptString(attributes, "details"));
    event_type = "WorkflowExecutionFailed";
    close_status = "FAILED";
  } else {
    SetIf(event, "details", OptString(attributes, "details"));
    SetIf(parent_extra, "details", OptString(attributes, "details"));
    event_type = "WorkflowExecutionCanceled";
    close_status = "CANCELED";
  }
  event["decisionTaskCompletedEventId"] = context.completed_event_id;
  AppendEvent(run, event_type, std::move(event));
  CloseRun(run, close_status, std::nullopt, std::move(parent_extra));
}

void EngineImpl::DecideContinueAsNew(RunState& run, const Json& attributes,
                                     DecisionContext& context) {
  const auto fail = [&](std::string_view cause) {
    AppendEvent(
        run, "ContinueAsNewWorkflowExecutionFailed",
        Object("cause", cause, "decisionTaskCompletedEventId", context.completed_event_id));
    NeedDecision(run);
  };
  if (context.unhandled || !context.is_last) return fail("UNHANDLED_DECISION");
  DomainState* domain = FindDomain(run.domain);
  const TypeKey key{run.type.first, StringOr(attributes, "workflowTypeVersion", run.type.second)};
  auto type_it = domain->workflow_types.find(key);
  if (type_it == domain->workflow_types.end()) return fail("WORKFLOW_TYPE_DOES_NOT_EXIST");
  const WorkflowTypeState& type = type_it->second;
  if (type.deprecated) return fail("WORKFLOW_TYPE_DEPRECATED");
  const auto execution_timeout = OrDefault(attributes, "executionStartToCloseTimeout",
                                           type.default_execution_start_to_close_timeout);
  if (!execution_timeout) return fail("DEFAULT_EXECUTION_START_TO_CLOSE_TIMEOUT_UNDEFINED");
  const auto task_timeout =
      OrDefault(attributes, "taskStartToCloseTimeout", type.default_task_start_to_close_timeout);
  if (!task_timeout) return fail("DEFAULT_TASK_START_TO_CLOSE_TIMEOUT_UNDEFINED");
  auto task_list = OptTaskList(attributes, "taskList");
  if (!task_list) task_list = type.default_task_list;
  if (!task_list) return fail("DEFAULT_TASK_LIST_UNDEFINED");
  const auto child_policy = OrDefault(attributes, "childPolicy", type.default_child_policy);
  if (!child_policy) return fail("DEFAULT_CHILD_POLICY_UNDEFINED");

  RunState next;
  next.workflow_id = run.workflow_id;
  next.type = key;
  next.task_list = *task_list;
  next.task_priority = OrDefault(attributes, "taskPriority", type.default_task_priority);
  next.execution_start_to_close_timeout = *execution_timeout;
  next.task_start_to_close_timeout = *task_timeout;
  next.child_policy = *child_policy;
  next.lambda_role = OrDefault(attributes, "lambdaRole", type.default_lambda_role);
  if (auto tags = attributes.find("tagList"); tags != attributes.end() && tags->is_array()) {
    next.tags = tags->get<std::vector<std::string>>();
  }
  next.parent = run.parent;
  do {
    next.run_id = NewRunId();
  } while (runs_.count(next.run_id) > 0);
  const auto input = OptString(attributes, "input");

  Json event = Json::object();
  SetIf(event, "input", input);
  event["decisionTaskCompletedEventId"] = context.completed_event_id;
  event["newExecutionRunId"] = next.run_id;
  event["executionStartToCloseTimeout"] = next.execution_start_to_close_timeout;
  event["taskList"] = TaskListJson(next.task_list);
  SetIf(event, "taskPriority", next.task_priority);
  event["taskStartToCloseTimeout"] = next.task_start_to_close_timeout;
  event["childPolicy"] = next.child_policy;
  if (!next.tags.empty()) event["tagList"] = next.tags;
  event["workflowType"] = TypeJson(key.first, key.second);
  SetIf(event, "lambdaRole", next.lambda_role);
  AppendEvent(run, "WorkflowExecutionContinuedAsNew", std::move(event));
  const std::string old_run_id = run.run_id;
  CloseRun(run, "CONTINUED_AS_NEW", std::nullopt, Json::object());
  RunState& created = CreateRun(*domain, std::move(next), input, old_run_id);
  // The parent now follows the new run.
  if (created.parent) {
    if (RunState* parent = FindRun(created.parent->run_id)) {
      auto child = parent->children.find(created.parent->initiated_event_id);
      if (child != parent->children.end()) {
        child->second.run_id = created.run_id;
        TouchChild(*parent, child->first);
      }
    }
  }
}

void EngineImpl::DecideSignalExternal(RunState& run, const Json& attributes,
                                      DecisionContext& context) {
  const std::string workflow_id = StringOr(attributes, "workflowId");
  const auto run_id = OptString(attributes, "runId");
  const auto control = OptString(attributes, "control");
  Json event = Object("workflowId", workflow_id);
  SetIf(event, "runId", run_id);
  event["signalName"] = StringOr(attributes, "signalName");
  SetIf(event, "input", OptString(attributes, "input"));
  event["decisionTaskCompletedEventId"] = context.completed_event_id;
  SetIf(event, "control", control);
  const EventId initiated =
      AppendEvent(run, "SignalExternalWorkflowExecutionInitiated", std::move(event));
  const EventId completed = context.completed_event_id;
  context.after.push_back([this, source_id = run.run_id, domain = run.domain, workflow_id, run_id,
                           control, initiated, completed,
                           signal_name = StringOr(attributes, "signalName"),
                           input = OptString(attributes, "input")] {
    RunState* source = FindRun(source_id);
    auto target = RequireOpenRun(domain, workflow_id, run_id.value_or(""));
    if (!target.ok()) {
      if (source == nullptr) return;
      Json failed = Object("workflowId", workflow_id);
      SetIf(failed, "runId", run_id);
      failed["cause"] = "UNKNOWN_EXTERNAL_WORKFLOW_EXECUTION";
      failed["initiatedEventId"] = initiated;
      failed["decisionTaskCompletedEventId"] = completed;
      SetIf(failed, "control", control);
      AppendEvent(*source, "SignalExternalWorkflowExecutionFailed", std::move(failed));
      NeedDecision(*source);
      return;
    }
    RunState& target_run = **target;
    const std::string target_run_id = target_run.run_id;
    Json signaled = Object("signalName", signal_name);
    SetIf(signaled, "input", input);
    if (source != nullptr) {
      signaled["externalWorkflowExecution"] = ExecutionJson(source->workflow_id, source->run_id);
    }
    signaled["externalInitiatedEventId"] = initiated;
    SignalRun(target_run, std::move(signaled));
    if (source == nullptr) return;
    AppendEvent(*source, "ExternalWorkflowExecutionSignaled",
                Object("workflowExecution", ExecutionJson(workflow_id, target_run_id),
                       "initiatedEventId", initiated));
    NeedDecision(*source);
  });
}

void EngineImpl::DecideRequestCancelExternal(RunState& run, const Json& attributes,
                                             DecisionContext& context) {
  const std::string workflow_id = StringOr(attributes, "workflowId");
  const auto run_id = OptString(attributes, "runId");
  const auto control = OptString(attributes, "control");
  Json event = Object("workflowId", workflow_id);
  SetIf(event, "runId", run_id);
  event["decisionTaskCompletedEventId"] = context.completed_event_id;
  SetIf(event, "control", control);
  const EventId initiated =
      AppendEvent(run, "RequestCancelExternalWorkflowExecutionInitiated", std::move(event));
  const EventId completed = context.completed_event_id;
  context.after.push_back([this, source_id = run.run_id, domain = run.domain, workflow_id, run_id,
                           control, initiated, completed] {
    RunState* source = FindRun(source_id);
    auto target = RequireOpenRun(domain, workflow_id, run_id.value_or(""));
    if (!target.ok()) {
      if (source == nullptr) return;
      Json failed = Object("workflowId", workflow_id);
      SetIf(failed, "runId", run_id);
      failed["cause"] = "UNKNOWN_EXTERNAL_WORKFLOW_EXECUTION";
      failed["initiatedEventId"] = initiated;
      failed["decisionTaskCompletedEventId"] = completed;
      SetIf(failed, "control", control);
      AppendEvent(*source, "RequestCancelExternalWorkflowExecutionFailed", std::move(failed));
      NeedDecision(*source);
      return;
    }
    RunState& target_run = **target;
    const std::string target_run_id = target_run.run_id;
    Json requested = Json::object();
    if (source != nullptr) {
      requested["externalWorkflowExecution"] = ExecutionJson(source->workflow_id, source->run_id);
    }
    requested["externalInitiatedEventId"] = initiated;
    RequestCancelRun(target_run, std::move(requested));
    if (source == nullptr) return;
    AppendEvent(*source, "ExternalWorkflowExecutionCancelRequested",
                Object("workflowExecution", ExecutionJson(workflow_id, target_run_id),
                       "initiatedEventId", initiated));
    NeedDecision(*source);
  });
}

void EngineImpl::DecideStartChild(RunState& run, const Json& attributes, DecisionContext& context) {
  const Json& type_json = Member(attributes, "workflowType");
  const TypeKey key{StringOr(type_json, "name"), StringOr(type_json, "version")};
  const std::string workflow_id = StringOr(attributes, "workflowId");
  const auto control = OptString(attributes, "control");
  const EventId completed = context.completed_event_id;
  const auto failed_event = [key, workflow_id, control, completed](std::string_view cause,
                                                                   EventId initiated) {
    Json failed = Object("workflowType", TypeJson(key.first, key.second),
                         "cause", cause,
                         "workflowId", workflow_id,
                         "initiatedEventId", initiated,
                         "decisionTaskCompletedEventId", completed);
    SetIf(failed, "control", control);
    return failed;
  };
  const auto fail = [&](std::string_view cause) {
    AppendEvent(run, "StartChildWorkflowExecutionFailed", failed_event(cause, 0));
    NeedDecision(run);
  };
  DomainState* domain = FindDomain(run.domain);
  auto type_it = domain->workflow_types.find(key);
  if (type_it == domain->workflow_types.end()) return fail("WORKFLOW_TYPE_DOES_NOT_EXIST");
  const WorkflowTypeState& type = type_it->second;
  if (type.deprecated) return fail("WORKFLOW_TYPE_DEPRECATED");
  if (run.children.size() >= kMaxOpenChildren) return fail("OPEN_CHILDREN_LIMIT_EXCEEDED");
  const auto execution_timeout = OrDefault(attributes, "executionStartToCloseTimeout",
                                           type.default_execution_start_to_close_timeout);
  if (!execution_timeout) return fail("DEFAULT_EXECUTION_START_TO_CLOSE_TIMEOUT_UNDEFINED");
  auto task_list = OptTaskList(attributes, "taskList");
  if (!task_list) task_list = type.default_task_list;
  if (!task_list) return fail("DEFAULT_TASK_LIST_UNDEFINED");
  const auto task_timeout =
      OrDefault(attributes, "taskStartToCloseTimeout", type.default_task_start_to_close_timeout);
  if (!task_timeout) return fail("DEFAULT_TASK_START_TO_CLOSE_TIMEOUT_UNDEFINED");
  const auto child_policy = OrDefault(attributes, "childPolicy", type.default_child_policy);
  if (!child_policy) return fail("DEFAULT_CHILD_POLICY_UNDEFINED");

  RunState child;
  child.workflow_id = workflow_id;
  child.type = key;
  child.task_list = *task_list;
  child.task_priority = OrDefault(attributes, "taskPriority", type.default_task_priority);
  child.execution_start_to_close_timeout = *execution_timeout;
  child.task_start_to_close_timeout = *task_timeout;
  child.child_policy = *child_policy;
  child.lambda_role = OrDefault(attributes, "lambdaRole", type.default_lambda_role);
  if (auto tags = attributes.find("tagList"); tags != attributes.end() && tags->is_array()) {
    child.tags = tags->get<std::vector<std::string>>();
  }
  const auto input = OptString(attributes, "input");

  Json event = Object("workflowId", workflow_id, "workflowType", TypeJson(key.first, key.second));
  SetIf(event, "control", control);
  SetIf(event, "input", input);
  event["executionStartToCloseTimeout"] = child.execution_start_to_close_timeout;
  event["taskList"] = TaskListJson(child.task_list);
  SetIf(event, "taskPriority", child.task_priority);
  event["decisionTaskCompletedEventId"] = completed;
  event["childPolicy"] = child.child_policy;
  event["taskStartToCloseTimeout"] = child.task_start_to_close_timeout;
  if (!child.tags.empty()) event["tagList"] = child.tags;
  SetIf(event, "lambdaRole", child.lambda_role);
  const EventId initiated =
      AppendEvent(run, "StartChildWorkflowExecutionInitiated", std::move(event));
  ChildState& state = run.children[initiated];
  state.initiated_event_id = initiated;
  state.workflow_id = workflow_id;
  state.type = key;
  TouchChild(run, initiated);
  child.parent = ParentRef{run.workflow_id, run.run_id, initiated};

  context.after.push_back([this, parent_id = run.run_id, domain_name = run.domain,
                           child = std::move(child), input, initiated, failed_event]() mutable {
    DomainState* child_domain = FindDomain(domain_name);
    RunState* parent = FindRun(parent_id);
    std::string_view cause;
    if (child_domain->open_run_by_workflow_id.count(child.workflow_id) > 0) {
      cause = "WORKFLOW_ALREADY_RUNNING";
    } else if (child_domain->open_run_by_workflow_id.size() >= kMaxOpenExecutionsPerDomain) {
      cause = "OPEN_WORKFLOWS_LIMIT_EXCEEDED";
    }
    if (!cause.empty()) {
      if (parent == nullptr || !parent->open) return;
      parent->children.erase(initiated);
      TouchChild(*parent, initiated);
      AppendEvent(*parent, "StartChildWorkflowExecutionFailed", failed_event(cause, initiated));
      NeedDecision(*parent);
      return;
    }
    const TypeKey child_type = child.type;
    RunState& created = CreateRun(*child_domain, std::move(child), input, std::nullopt);
    parent = FindRun(parent_id);
    if (parent == nullptr || !parent->open) return;
    auto state_it = parent->children.find(initiated);
    if (state_it == parent->children.end()) return;
    state_it->second.run_id = created.run_id;
    TouchChild(*parent, initiated);
    state_it->second.started_event_id =
        AppendEvent(*parent, "ChildWorkflowExecutionStarted",
                    Object("workflowExecution", ExecutionJson(created.workflow_id, created.run_id),
                           "workflowType", TypeJson(child_type.first, child_type.second),
                           "initiatedEventId", initiated));
    NeedDecision(*parent);
  });
}

}  // namespace garcon::engine
