// The engine's state as plain structs: domains, types, open runs, their open
// activities, timers and children, and their histories. Nothing here knows
// about locking, queues or clocks beyond time stamps.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "engine/durations.h"
#include "engine/history.h"
#include "engine/task_queue.h"
#include "engine/timer_queue.h"
#include "garcon/clock.h"
#include "garcon/service.h"

namespace garcon::engine {

// SWF's quotas.
inline constexpr std::size_t kMaxEvents = 25000;
// Terminate a run (EVENT_LIMIT_EXCEEDED) once its history reaches this size,
// leaving room for the events one operation writes and the termination, so
// the history never exceeds kMaxEvents.
inline constexpr std::size_t kEventLimitThreshold = kMaxEvents - 8;
inline constexpr std::size_t kMaxOpenActivities = 1000;
inline constexpr std::size_t kMaxOpenTimers = 1000;
inline constexpr std::size_t kMaxOpenChildren = 1000;
inline constexpr std::size_t kMaxOpenExecutionsPerDomain = 100000;
inline constexpr std::size_t kMaxDomains = 100;
inline constexpr std::size_t kMaxTypesPerDomain = 10000;
inline constexpr std::size_t kMaxDomainTags = 50;
inline constexpr std::size_t kMaxPollersPerTaskList = 1000;

using TypeKey = std::pair<std::string, std::string>;  // (name, version)

struct ActivityTypeState {
  std::string name;
  std::string version;
  std::optional<std::string> description;
  bool deprecated = false;
  TimePoint creation_date;
  std::optional<TimePoint> deprecation_date;
  std::optional<std::string> default_task_list;
  std::optional<std::string> default_task_priority;
  std::optional<std::string> default_task_start_to_close_timeout;
  std::optional<std::string> default_task_heartbeat_timeout;
  std::optional<std::string> default_task_schedule_to_start_timeout;
  std::optional<std::string> default_task_schedule_to_close_timeout;
};

struct WorkflowTypeState {
  std::string name;
  std::string version;
  std::optional<std::string> description;
  bool deprecated = false;
  TimePoint creation_date;
  std::optional<TimePoint> deprecation_date;
  std::optional<std::string> default_task_list;
  std::optional<std::string> default_task_priority;
  std::optional<std::string> default_task_start_to_close_timeout;
  std::optional<std::string> default_execution_start_to_close_timeout;
  std::optional<std::string> default_child_policy;
  std::optional<std::string> default_lambda_role;
};

struct DomainState {
  std::string name;
  std::optional<std::string> description;
  std::string retention_days;
  bool deprecated = false;
  // How long closed runs are kept: retention_days (0 or NONE: not at all).
  std::chrono::seconds Retention() const {
    return std::chrono::seconds(DurationSeconds(retention_days).value_or(0) * 86400);
  }
  std::vector<std::pair<std::string, std::string>> tags;  // (key, value)
  std::map<TypeKey, ActivityTypeState> activity_types;
  std::map<TypeKey, WorkflowTypeState> workflow_types;
  // Open runs (closed ones are in the store): by workflowId, and in start
  // order for the visibility lists.
  std::unordered_map<std::string, std::string> open_run_by_workflow_id;
  std::map<std::uint64_t, std::string> open_by_start;
};

struct ActivityTaskState {
  EventId scheduled_event_id = 0;
  EventId started_event_id = 0;  // 0 until a worker polls it
  std::string activity_id;
  TypeKey type;
  std::optional<std::string> input;
  std::string task_list;
  std::int64_t priority = 0;
  std::string schedule_to_start_timeout;
  std::string schedule_to_close_timeout;
  std::string start_to_close_timeout;
  std::string heartbeat_timeout;
  std::optional<std::string> identity;
  std::optional<std::string> heartbeat_details;
  bool cancel_requested = false;
  EventId latest_cancel_requested_event_id = 0;
  std::string token_secret;
  QueuePosition queued;  // seq 0 once started
  DeadlineId schedule_to_start_deadline = 0;
  DeadlineId schedule_to_close_deadline = 0;
  DeadlineId start_to_close_deadline = 0;
  DeadlineId heartbeat_deadline = 0;
};

struct TimerState {
  std::string timer_id;
  EventId started_event_id = 0;
  DeadlineId deadline = 0;
};

struct ChildState {
  EventId initiated_event_id = 0;
  EventId started_event_id = 0;
  std::string workflow_id;
  std::string run_id;
  TypeKey type;
};

// The decision task of a run: at most one scheduled and one started.
struct DecisionTaskState {
  EventId scheduled_event_id = 0;  // 0: none scheduled
  EventId started_event_id = 0;    // 0: none started
  // Events needing a decision arrived while the task was started: schedule
  // a new one when it completes or times out.
  bool pending = false;
  std::string token_secret;
  std::string task_list;  // where it was queued
  QueuePosition queued;
  DeadlineId schedule_to_start_deadline = 0;
  DeadlineId start_to_close_deadline = 0;
};

struct ParentRef {
  std::string workflow_id;
  std::string run_id;
  EventId initiated_event_id = 0;
};

struct RunState {
  std::string domain;
  std::string workflow_id;
  std::string run_id;
  TypeKey type;
  // Configuration, as resolved at start.
  std::string task_list;
  std::optional<std::string> task_priority;
  std::string execution_start_to_close_timeout;
  std::string task_start_to_close_timeout;
  std::string child_policy;
  std::optional<std::string> lambda_role;
  std::vector<std::string> tags;
  std::optional<ParentRef> parent;

  TimePoint start_time;
  std::optional<TimePoint> close_time;
  bool open = true;
  std::string close_status;  // when closed
  bool cancel_requested = false;
  bool over_event_limit = false;

  std::vector<Json> events;
  // Not persisted: how many of `events` were handed to the journal.
  std::size_t persisted_events = 0;
  // Start order across the store (visibility order).
  std::uint64_t start_seq = 0;

  DecisionTaskState decision;
  // RespondDecisionTaskCompleted's taskList: where future decision tasks go,
  // permanently, or until a decision task there times out when
  // taskListScheduleToStartTimeout was given.
  std::optional<std::string> decision_task_list_override;
  std::optional<std::string> decision_task_list_timeout;
  // Started event of the last decision task the decider completed.
  EventId previous_started_event_id = 0;
  std::optional<TimePoint> latest_activity_task_timestamp;
  std::optional<std::string> latest_execution_context;

  std::map<EventId, ActivityTaskState> activities;        // open ones, by scheduled id
  std::unordered_map<std::string, EventId> activity_ids;  // activityId -> scheduled id
  std::map<std::string, TimerState> timers;               // open ones, by timerId
  std::map<EventId, ChildState> children;                 // open ones, by initiated id
  DeadlineId execution_deadline = 0;
};

}  // namespace garcon::engine
