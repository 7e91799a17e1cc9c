// The few places that change a run: events, decision scheduling, closing,
// and what deadlines do when they fire.
#include <algorithm>

#include "engine/durations.h"
#include "engine/engine_impl.h"

namespace garcon::engine {
EventId EngineImpl::AppendEvent(RunState& run, std::string_view type, Json attributes) {
  if (!run.open) return 0;
  // The hard limit: the last slot is kept for the termination that follows.
  if (run.events.size() + 1 >= kMaxEvents && type != "WorkflowExecutionTerminated") return 0;
  const auto id = static_cast<EventId>(run.events.size()) + 1;
  run.events.push_back(MakeEvent(id, now_, type, std::move(attributes)));
  if (journal_all_) Dirty(run).row = true;
  if (!run.over_event_limit && run.events.size() >= kEventLimitThreshold) {
    run.over_event_limit = true;
    over_limit_runs_.push_back(run.run_id);
  }
  return id;
}

void EngineImpl::EnforceEventLimits() {
  while (!over_limit_runs_.empty()) {
    const std::string run_id = std::move(over_limit_runs_.back());
    over_limit_runs_.pop_back();
    RunState* run = FindRun(run_id);
    if (run != nullptr && run->open) {
      TerminateRun(*run, std::nullopt, std::nullopt, std::nullopt, "EVENT_LIMIT_EXCEEDED");
    }
  }
}

void EngineImpl::NeedDecision(RunState& run) {
  if (!run.open) return;
  if (run.decision.started_event_id != 0) {
    run.decision.pending = true;
    return;
  }
  if (run.decision.scheduled_event_id != 0) return;
  ScheduleDecisionTask(run);
}

void EngineImpl::ScheduleDecisionTask(RunState& run) {
  const std::string task_list = run.decision_task_list_override.value_or(run.task_list);
  const std::optional<std::string> schedule_to_start =
      run.decision_task_list_override ? run.decision_task_list_timeout : std::nullopt;
  Json attributes = Object("taskList", TaskListJson(task_list),
                           "startToCloseTimeout", run.task_start_to_close_timeout);
  SetIf(attributes, "taskPriority", run.task_priority);
  SetIf(attributes, "scheduleToStartTimeout", schedule_to_start);
  const EventId scheduled = AppendEvent(run, "DecisionTaskScheduled", std::move(attributes));
  if (scheduled == 0) return;
  run.decision = DecisionTaskState{};
  run.decision.scheduled_event_id = scheduled;
  run.decision.task_list = task_list;
  if (schedule_to_start) {
    if (auto seconds = DurationSeconds(*schedule_to_start)) {
      Deadline deadline;
      deadline.kind = DeadlineKind::kDecisionScheduleToStart;
      deadline.run_id = run.run_id;
      deadline.event_id = scheduled;
      run.decision.schedule_to_start_deadline = AddDeadlineAfter(*seconds, std::move(deadline));
    }
  }
  EnqueueTask(TaskKind::kDecision, QueueKey(run.domain, task_list),
              PriorityOrZero(run.task_priority), QueuedTask{run.run_id, scheduled},
              &run.decision.queued);
}

RunState& EngineImpl::CreateRun(DomainState& domain, RunState config,
                                std::optional<std::string> input,
                                std::optional<std::string> continued_execution_run_id) {
  if (config.run_id.empty()) {
    do {
      config.run_id = NewRunId();
    } while (runs_.count(config.run_id) > 0);
  }
  config.domain = domain.name;
  config.start_time = now_;
  config.start_seq = ++run_seq_;
  config.open = true;
  const std::string run_id = config.run_id;
  RunState* created = nullptr;
  if (spare_run_.empty()) {
    created = &runs_.emplace(run_id, std::move(config)).first->second;
  } else {
    // The node a closed run left (RememberClosed): no allocation.
    spare_run_.key() = run_id;
    spare_run_.mapped() = std::move(config);
    created = &runs_.insert(std::move(spare_run_)).position->second;
  }
  RunState& run = *created;
  domain.open_run_by_workflow_id[run.workflow_id] = run_id;
  domain.open_by_start.emplace(run.start_seq, run_id);
  ++open_runs_;

  Json attributes = Json::object();
  SetIf(attributes, "input", input);
  attributes["executionStartToCloseTimeout"] = run.execution_start_to_close_timeout;
  attributes["taskStartToCloseTimeout"] = run.task_start_to_close_timeout;
  attributes["childPolicy"] = run.child_policy;
  attributes["taskList"] = TaskListJson(run.task_list);
  SetIf(attributes, "taskPriority", run.task_priority);
  attributes["workflowType"] = TypeJson(run.type.first, run.type.second);
  if (!run.tags.empty()) attributes["tagList"] = run.tags;
  SetIf(attributes, "continuedExecutionRunId", continued_execution_run_id);
  if (run.parent) {
    attributes["parentWorkflowExecution"] =
        ExecutionJson(run.parent->workflow_id, run.parent->run_id);
    attributes["parentInitiatedEventId"] = run.parent->initiated_event_id;
  }
  SetIf(attributes, "lambdaRole", run.lambda_role);
  AppendEvent(run, "WorkflowExecutionStarted", std::move(attributes));

  if (auto seconds = DurationSeconds(run.execution_start_to_close_timeout)) {
    Deadline deadline;
    deadline.kind = DeadlineKind::kExecutionStartToClose;
    deadline.run_id = run_id;
    run.execution_deadline = AddDeadlineAfter(*seconds, std::move(deadline));
  }
  ScheduleDecisionTask(run);
  return run;
}

void EngineImpl::CloseRun(RunState& run, std::string_view close_status,
                          std::optional<std::string> child_policy, Json parent_extra) {
  if (!run.open) return;
  run.open = false;
  run.close_status = std::string(close_status);
  run.close_time = now_;
  --open_runs_;
  ++closed_runs_;
  // Written whole (without a user store) or as its final row; dropped from
  // memory once that is durable.
  Dirty(run).closed = true;
  closed_now_.push_back(run.run_id);
  if (DomainState* domain = FindDomain(run.domain)) {
    auto it = domain->open_run_by_workflow_id.find(run.workflow_id);
    if (it != domain->open_run_by_workflow_id.end() && it->second == run.run_id) {
      domain->open_run_by_workflow_id.erase(it);
    }
    domain->open_by_start.erase(run.start_seq);
    ArmRetentionSweep(now_ + domain->Retention());
  }
  CancelDeadline(&run.execution_deadline);
  DequeueTask(TaskKind::kDecision, QueueKey(run.domain, run.decision.task_list),
              &run.decision.queued);
  CancelDeadline(&run.decision.schedule_to_start_deadline);
  CancelDeadline(&run.decision.start_to_close_deadline);
  run.decision = DecisionTaskState{};
  for (auto& [scheduled, activity] : run.activities) {
    DequeueTask(TaskKind::kActivity, QueueKey(run.domain, activity.task_list), &activity.queued);
    CancelDeadline(&activity.schedule_to_start_deadline);
    CancelDeadline(&activity.schedule_to_close_deadline);
    CancelDeadline(&activity.start_to_close_deadline);
    CancelDeadline(&activity.heartbeat_deadline);
  }
  run.activities.clear();
  run.activity_ids.clear();
  for (auto& [timer_id, timer] : run.timers) CancelDeadline(&timer.deadline);
  run.timers.clear();

  // Children: the child policy applies when the run is terminated or times out.
  std::map<EventId, ChildState> children;
  children.swap(run.children);
  if (child_policy && *child_policy != "ABANDON") {
    for (auto& [initiated, child] : children) {
      RunState* child_run = FindRun(child.run_id);
      if (child_run == nullptr || !child_run->open) continue;
      if (*child_policy == "TERMINATE") {
        TerminateRun(*child_run, std::nullopt, std::nullopt, std::nullopt, "CHILD_POLICY_APPLIED");
      } else if (*child_policy == "REQUEST_CANCEL") {
        RequestCancelRun(*child_run, Object("cause", "CHILD_POLICY_APPLIED"));
      }
    }
  }

  // Parent: a continued run keeps its parent; the parent hears of the last run.
  if (!run.parent || close_status == "CONTINUED_AS_NEW") return;
  RunState* parent = FindRun(run.parent->run_id);
  if (parent == nullptr || !parent->open) return;
  auto child = parent->children.find(run.parent->initiated_event_id);
  if (child == parent->children.end()) return;
  std::string type;
  if (close_status == "COMPLETED") {
    type = "ChildWorkflowExecutionCompleted";
  } else if (close_status == "FAILED") {
    type = "ChildWorkflowExecutionFailed";
  } else if (close_status == "CANCELED") {
    type = "ChildWorkflowExecutionCanceled";
  } else if (close_status == "TERMINATED") {
    type = "ChildWorkflowExecutionTerminated";
  } else {
    type = "ChildWorkflowExecutionTimedOut";
  }
  Json attributes = parent_extra.is_object() ? std::move(parent_extra) : Json::object();
  attributes["workflowExecution"] = ExecutionJson(run.workflow_id, run.run_id);
  attributes["workflowType"] = TypeJson(run.type.first, run.type.second);
  attributes["initiatedEventId"] = child->second.initiated_event_id;
  attributes["startedEventId"] = child->second.started_event_id;
  TouchChild(*parent, child->second.initiated_event_id);
  parent->children.erase(child);
  AppendEvent(*parent, type, std::move(attributes));
  NeedDecision(*parent);
}

void EngineImpl::TerminateRun(RunState& run, std::optional<std::string> reason,
                              std::optional<std::string> details,
                              std::optional<std::string> child_policy,
                              std::optional<std::string> cause) {
  if (!run.open) return;
  const std::string policy = child_policy ? *child_policy : run.child_policy;
  Json attributes = Json::object();
  SetIf(attributes, "reason", reason);
  SetIf(attributes, "details", details);
  attributes["childPolicy"] = policy;
  SetIf(attributes, "cause", cause);
  AppendEvent(run, "WorkflowExecutionTerminated", std::move(attributes));
  CloseRun(run, "TERMINATED", policy, Json::object());
}

void EngineImpl::RequestCancelRun(RunState& run, Json attributes) {
  if (!run.open) return;
  AppendEvent(run, "WorkflowExecutionCancelRequested", std::move(attributes));
  run.cancel_requested = true;
  NeedDecision(run);
}

void EngineImpl::SignalRun(RunState& run, Json attributes) {
  if (!run.open) return;
  AppendEvent(run, "WorkflowExecutionSignaled", std::move(attributes));
  NeedDecision(run);
}

void EngineImpl::CloseActivity(RunState& run, EventId scheduled_event_id) {
  auto it = run.activities.find(scheduled_event_id);
  if (it == run.activities.end()) return;
  ActivityTaskState& activity = it->second;
  DequeueTask(TaskKind::kActivity, QueueKey(run.domain, activity.task_list), &activity.queued);
  CancelDeadline(&activity.schedule_to_start_deadline);
  CancelDeadline(&activity.schedule_to_close_deadline);
  CancelDeadline(&activity.start_to_close_deadline);
  CancelDeadline(&activity.heartbeat_deadline);
  auto id = run.activity_ids.find(activity.activity_id);
  if (id != run.activity_ids.end() && id->second == scheduled_event_id) run.activity_ids.erase(id);
  run.activities.erase(it);
  TouchActivity(run, scheduled_event_id);
}

void EngineImpl::OnActivityTimeout(const Deadline& deadline) {
  RunState* run = FindRun(deadline.run_id);
  if (run == nullptr || !run->open) return;
  auto it = run->activities.find(deadline.event_id);
  if (it == run->activities.end()) return;
  ActivityTaskState& activity = it->second;
  const bool started = activity.started_event_id != 0;
  std::string_view timeout_type;
  switch (deadline.kind) {
    case DeadlineKind::kActivityScheduleToStart:
      if (started) return;
      activity.schedule_to_start_deadline = 0;
      timeout_type = "SCHEDULE_TO_START";
      break;
    case DeadlineKind::kActivityScheduleToClose:
      activity.schedule_to_close_deadline = 0;
      timeout_type = "SCHEDULE_TO_CLOSE";
      break;
    case DeadlineKind::kActivityStartToClose:
      if (!started) return;
      activity.start_to_close_deadline = 0;
      timeout_type = "START_TO_CLOSE";
      break;
    case DeadlineKind::kActivityHeartbeat:
      if (!started) return;
      activity.heartbeat_deadline = 0;
      timeout_type = "HEARTBEAT";
      break;
    default:
      return;
  }
  Json attributes = Object("timeoutType", timeout_type,
                           "scheduledEventId", activity.scheduled_event_id,
                           "startedEventId", activity.started_event_id);
  SetIf(attributes, "details", activity.heartbeat_details);
  AppendEvent(*run, "ActivityTaskTimedOut", std::move(attributes));
  CloseActivity(*run, deadline.event_id);
  NeedDecision(*run);
}

void EngineImpl::OnDecisionTimeout(const Deadline& deadline) {
  RunState* run = FindRun(deadline.run_id);
  if (run == nullptr || !run->open) return;
  DecisionTaskState& decision = run->decision;
  std::string_view timeout_type;
  if (deadline.kind == DeadlineKind::kDecisionScheduleToStart) {
    if (decision.scheduled_event_id != deadline.event_id || decision.started_event_id != 0) return;
    decision.schedule_to_start_deadline = 0;
    DequeueTask(TaskKind::kDecision, QueueKey(run->domain, decision.task_list), &decision.queued);
    timeout_type = "SCHEDULE_TO_START";
  } else {
    if (decision.started_event_id == 0 || decision.started_event_id != deadline.event_id) return;
    decision.start_to_close_deadline = 0;
    timeout_type = "START_TO_CLOSE";
  }
  AppendEvent(*run, "DecisionTaskTimedOut",
              Object("timeoutType", timeout_type,
                     "scheduledEventId", decision.scheduled_event_id,
                     "startedEventId", decision.started_event_id));
  // A temporary task list override ends with its first timeout.
  if (run->decision_task_list_timeout) {
    run->decision_task_list_override.reset();
    run->decision_task_list_timeout.reset();
  }
  run->decision = DecisionTaskState{};
  ScheduleDecisionTask(*run);
}

void EngineImpl::OnExecutionTimeout(const Deadline& deadline) {
  RunState* run = FindRun(deadline.run_id);
  if (run == nullptr || !run->open) return;
  run->execution_deadline = 0;
  AppendEvent(*run, "WorkflowExecutionTimedOut",
              Object("timeoutType", "START_TO_CLOSE", "childPolicy", run->child_policy));
  CloseRun(*run, "TIMED_OUT", run->child_policy, Object("timeoutType", "START_TO_CLOSE"));
}

void EngineImpl::OnTimerFired(const Deadline& deadline) {
  RunState* run = FindRun(deadline.run_id);
  if (run == nullptr || !run->open) return;
  auto it = run->timers.find(deadline.name);
  if (it == run->timers.end() || it->second.started_event_id != deadline.event_id) return;
  const EventId started = it->second.started_event_id;
  run->timers.erase(it);
  TouchTimer(*run, deadline.name);
  AppendEvent(*run, "TimerFired", Object("timerId", deadline.name, "startedEventId", started));
  NeedDecision(*run);
}

}  // namespace garcon::engine
