// Shared by the fuzzers: an engine on a fake clock with a registered domain
// "d", workflow type "wf"/"1" (decisions on task list "decisions") and
// activity type "act"/"1" (task list "activities"), and helpers to get live
// task tokens out of it.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <utility>

#include "garcon/clock.h"
#include "garcon/engine.h"
#include "garcon/store.h"

namespace garcon::fuzz {

// Aborts (so libFuzzer reports it) with a message.
[[noreturn]] inline void Die(const std::string& message) {
  std::fprintf(stderr, "FUZZ CHECK FAILED: %s\n", message.c_str());
  std::abort();
}

// Calls and returns the answer, or null JSON on a fault.
inline Json CallOrNull(engine::Engine& engine, std::string_view op, const Json& request) {
  Result<Json> r = engine.Call(op, request);
  return r.ok() ? *r : Json();
}

// Calls one of the setup steps, which must work.
inline Json MustCall(engine::Engine& engine, std::string_view op, const Json& request) {
  Result<Json> r = engine.Call(op, request);
  if (!r.ok()) Die(std::string(op) + " failed in setup: " + r.status().ToString());
  return *r;
}

inline void RegisterBasics(engine::Engine& engine) {
  MustCall(engine, "RegisterDomain",
           {{"name", "d"}, {"workflowExecutionRetentionPeriodInDays", "1"}});
  MustCall(engine, "RegisterWorkflowType",
           {{"domain", "d"},
            {"name", "wf"},
            {"version", "1"},
            {"defaultTaskList", {{"name", "decisions"}}},
            {"defaultExecutionStartToCloseTimeout", "3600"},
            {"defaultTaskStartToCloseTimeout", "30"},
            {"defaultChildPolicy", "TERMINATE"}});
  MustCall(engine, "RegisterActivityType",
           {{"domain", "d"},
            {"name", "act"},
            {"version", "1"},
            {"defaultTaskList", {{"name", "activities"}}},
            {"defaultTaskScheduleToStartTimeout", "60"},
            {"defaultTaskScheduleToCloseTimeout", "600"},
            {"defaultTaskStartToCloseTimeout", "300"},
            {"defaultTaskHeartbeatTimeout", "120"}});
}

// Starts workflow `workflow_id` ("wf"/"1") and returns its runId ("" when
// it could not start, e.g. already open).
inline std::string StartWorkflow(engine::Engine& engine, const std::string& workflow_id,
                                 const std::string& input = "{}") {
  Json r = CallOrNull(engine, "StartWorkflowExecution",
                      {{"domain", "d"},
                       {"workflowId", workflow_id},
                       {"workflowType", {{"name", "wf"}, {"version", "1"}}},
                       {"input", input},
                       {"tagList", {"t1", "t2"}}});
  return r.is_object() ? r.value("runId", "") : "";
}

// A decision task (poll with no wait), or null when none is queued.
inline Json PollDecision(engine::Engine& engine) {
  Json task = CallOrNull(engine, "PollForDecisionTask",
                         {{"domain", "d"}, {"taskList", {{"name", "decisions"}}},
                          {"identity", "fuzz-decider"}});
  return task.is_object() && task.value("taskToken", "") != "" ? task : Json();
}

inline Json PollActivity(engine::Engine& engine) {
  Json task = CallOrNull(engine, "PollForActivityTask",
                         {{"domain", "d"}, {"taskList", {{"name", "activities"}}},
                          {"identity", "fuzz-worker"}});
  return task.is_object() && task.value("taskToken", "") != "" ? task : Json();
}

inline Json ScheduleActivityDecision(const std::string& activity_id) {
  return {{"decisionType", "ScheduleActivityTask"},
          {"scheduleActivityTaskDecisionAttributes",
           {{"activityType", {{"name", "act"}, {"version", "1"}}},
            {"activityId", activity_id},
            {"input", "{\"k\": 1}"}}}};
}

inline Json StartTimerDecision(const std::string& timer_id, const std::string& seconds) {
  return {{"decisionType", "StartTimer"},
          {"startTimerDecisionAttributes",
           {{"timerId", timer_id}, {"startToFireTimeout", seconds}}}};
}

}  // namespace garcon::fuzz
