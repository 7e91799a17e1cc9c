// Workflow executions from the outside: start, signal, cancel request,
// terminate, describe, history, and the visibility lists and counts.
#include <algorithm>
#include <cstdint>
#include <functional>

#include "engine/durations.h"
#include "engine/engine_impl.h"

namespace garcon::engine {
namespace {

std::string TypeText(std::string_view kind, const TypeKey& key) {
  return std::string(kind) + "=[name=" + key.first + ", version=" + key.second + "]";
}

Status Undefined(std::string_view field) {
  return Status(Fault::kDefaultUndefined,
                "No default " + std::string(field) +
                    " was registered for the workflow type and none was given");
}

}  // namespace

Result<Json> EngineImpl::StartWorkflowExecution(const Json& request) {
  ASSIGN_OR_RETURN(DomainState * domain, RequireDomain(StringOr(request, "domain")));
  if (domain->deprecated) {
    return Status(Fault::kDomainDeprecated, "Domain is deprecated: " + domain->name);
  }
  const Json& type_json = Member(request, "workflowType");
  const TypeKey key{StringOr(type_json, "name"), StringOr(type_json, "version")};
  auto type_it = domain->workflow_types.find(key);
  if (type_it == domain->workflow_types.end()) {
    return UnknownResource("Unknown type: " + TypeText("WorkflowType", key));
  }
  const WorkflowTypeState& type = type_it->second;
  if (type.deprecated) return Status(Fault::kTypeDeprecated, TypeText("WorkflowType", key));
  const std::string workflow_id = StringOr(request, "workflowId");
  if (domain->open_run_by_workflow_id.count(workflow_id) > 0) {
    return Status(Fault::kWorkflowExecutionAlreadyStarted,
                  "Already Started: an open execution with workflowId " + workflow_id +
                      " exists in domain " + domain->name);
  }

  RunState run;
  run.workflow_id = workflow_id;
  run.type = key;
  auto task_list = OptTaskList(request, "taskList");
  if (!task_list) task_list = type.default_task_list;
  if (!task_list) return Undefined("taskList");
  run.task_list = *task_list;
  auto execution_timeout = OptString(request, "executionStartToCloseTimeout");
  if (!execution_timeout) execution_timeout = type.default_execution_start_to_close_timeout;
  if (!execution_timeout) return Undefined("executionStartToCloseTimeout");
  std::optional<std::int64_t> seconds;
  RETURN_IF_ERROR(ParseDuration(*execution_timeout, "executionStartToCloseTimeout",
                                /*allow_none=*/false, &seconds));
  if (*seconds > kMaxExecutionSeconds) {
    return ValidationError("executionStartToCloseTimeout may not exceed one year (31536000)");
  }
  run.execution_start_to_close_timeout = *execution_timeout;
  auto task_timeout = OptString(request, "taskStartToCloseTimeout");
  if (!task_timeout) task_timeout = type.default_task_start_to_close_timeout;
  if (!task_timeout) return Undefined("taskStartToCloseTimeout");
  RETURN_IF_ERROR(CheckDuration(*task_timeout, "taskStartToCloseTimeout", true));
  run.task_start_to_close_timeout = *task_timeout;
  auto child_policy = OptString(request, "childPolicy");
  if (!child_policy) child_policy = type.default_child_policy;
  if (!child_policy) return Undefined("childPolicy");
  run.child_policy = *child_policy;
  run.task_priority = OptString(request, "taskPriority");
  if (run.task_priority) {
    std::int64_t ignored = 0;
    RETURN_IF_ERROR(ParsePriority(*run.task_priority, "taskPriority", &ignored));
  } else {
    run.task_priority = type.default_task_priority;
  }
  run.lambda_role = OptString(request, "lambdaRole");
  if (!run.lambda_role) run.lambda_role = type.default_lambda_role;
  if (auto tags = request.find("tagList"); tags != request.end() && tags->is_array()) {
    run.tags = tags->get<std::vector<std::string>>();
  }
  if (domain->open_run_by_workflow_id.size() >= kMaxOpenExecutionsPerDomain) {
    return Status(Fault::kLimitExceeded, "Too many open executions in domain " + domain->name);
  }
  RunState& created = CreateRun(*domain, std::move(run), OptString(request, "input"), std::nullopt);
  return Json{{"runId", created.run_id}};
}

Result<Json> EngineImpl::SignalWorkflowExecution(const Json& request) {
  ASSIGN_OR_RETURN(RunState * run,
                   RequireOpenRun(StringOr(request, "domain"), StringOr(request, "workflowId"),
                                  StringOr(request, "runId")));
  Json attributes{{"signalName", StringOr(request, "signalName")}};
  SetIf(attributes, "input", OptString(request, "input"));
  SignalRun(*run, std::move(attributes));
  return Json::object();
}

Result<Json> EngineImpl::RequestCancelWorkflowExecution(const Json& request) {
  ASSIGN_OR_RETURN(RunState * run,
                   RequireOpenRun(StringOr(request, "domain"), StringOr(request, "workflowId"),
                                  StringOr(request, "runId")));
  // A second request while one is outstanding changes nothing.
  if (!run->cancel_requested) RequestCancelRun(*run, Json::object());
  return Json::object();
}

Result<Json> EngineImpl::TerminateWorkflowExecution(const Json& request) {
  ASSIGN_OR_RETURN(RunState * run,
                   RequireOpenRun(StringOr(request, "domain"), StringOr(request, "workflowId"),
                                  StringOr(request, "runId")));
  TerminateRun(*run, OptString(request, "reason"), OptString(request, "details"),
               OptString(request, "childPolicy"), "OPERATOR_INITIATED");
  return Json::object();
}

Json EngineImpl::ExecutionInfo(const RunState& run) const {
  Json info{{"execution", ExecutionJson(run.workflow_id, run.run_id)},
            {"workflowType", TypeJson(run.type.first, run.type.second)},
            {"startTimestamp", Timestamp(run.start_time)},
            {"executionStatus", run.open ? "OPEN" : "CLOSED"},
            {"cancelRequested", run.cancel_requested}};
  if (!run.open) {
    info["closeTimestamp"] = Timestamp(*run.close_time);
    info["closeStatus"] = run.close_status;
  }
  if (!run.tags.empty()) info["tagList"] = run.tags;
  if (run.parent) info["parent"] = ExecutionJson(run.parent->workflow_id, run.parent->run_id);
  return info;
}

Result<Json> EngineImpl::DescribeWorkflowExecution(const Json& request) {
  ASSIGN_OR_RETURN(RunState * run,
                   RequireExecution(StringOr(request, "domain"), Member(request, "execution")));
  Json configuration{{"taskStartToCloseTimeout", run->task_start_to_close_timeout},
                     {"executionStartToCloseTimeout", run->execution_start_to_close_timeout},
                     {"taskList", TaskListJson(run->task_list)},
                     {"childPolicy", run->child_policy}};
  SetIf(configuration, "taskPriority", run->task_priority);
  SetIf(configuration, "lambdaRole", run->lambda_role);
  const bool decision_open =
      run->decision.scheduled_event_id != 0 || run->decision.started_event_id != 0;
  Json detail{{"executionInfo", ExecutionInfo(*run)},
              {"executionConfiguration", std::move(configuration)},
              {"openCounts",
               {{"openActivityTasks", run->activities.size()},
                {"openDecisionTasks", decision_open ? 1 : 0},
                {"openTimers", run->timers.size()},
                {"openChildWorkflowExecutions", run->children.size()},
                {"openLambdaFunctions", 0}}}};
  if (run->latest_activity_task_timestamp) {
    detail["latestActivityTaskTimestamp"] = Timestamp(*run->latest_activity_task_timestamp);
  }
  SetIf(detail, "latestExecutionContext", run->latest_execution_context);
  return detail;
}

Result<Json> EngineImpl::GetWorkflowExecutionHistory(const Json& request) {
  ASSIGN_OR_RETURN(RunState * run,
                   RequireExecution(StringOr(request, "domain"), Member(request, "execution")));
  const auto last = static_cast<EventId>(run->events.size());
  bool reverse = BoolOr(request, "reverseOrder", false);
  std::optional<EventId> cursor;
  const std::string token = StringOr(request, "nextPageToken");
  if (!token.empty()) {
    ASSIGN_OR_RETURN(Json fields, DecodePageToken(token, "history"));
    if (!fields["r"].is_string() || fields["r"] != run->run_id ||
        !fields["n"].is_number_integer() || !fields["rv"].is_boolean() ||
        fields["n"].get<EventId>() < 1 || fields["n"].get<EventId>() > last) {
      return ValidationError("Invalid nextPageToken for this execution's history");
    }
    cursor = fields["n"].get<EventId>();
    reverse = fields["rv"].get<bool>();
  }
  EventPage page = PageEvents(run->events, 1, last, cursor, PageSize(request), reverse);
  Json response{{"events", std::move(page.events)}};
  if (page.next) {
    response["nextPageToken"] =
        EncodePageToken("history", Json{{"r", run->run_id}, {"n", *page.next}, {"rv", reverse}});
  }
  return response;
}

// --- visibility -------------------------------------------------------------------------

Result<std::vector<RunState*>> EngineImpl::FilterExecutions(const Json& request, bool open) {
  ASSIGN_OR_RETURN(DomainState * domain, RequireDomain(StringOr(request, "domain")));
  const auto has = [&](const char* key) {
    auto it = request.find(key);
    return it != request.end() && !it->is_null();
  };
  const int exclusive = int{has("executionFilter")} + int{has("typeFilter")} +
                        int{has("tagFilter")} + int{has("closeStatusFilter")};
  if (exclusive > 1) {
    return ValidationError(
        "executionFilter, typeFilter, tagFilter and closeStatusFilter are mutually exclusive: "
        "specify at most one");
  }
  const bool by_close_time = has("closeTimeFilter");
  if (!open && has("startTimeFilter") == by_close_time) {
    return ValidationError("Specify exactly one of startTimeFilter and closeTimeFilter");
  }
  const Json& time_filter =
      by_close_time ? Member(request, "closeTimeFilter") : Member(request, "startTimeFilter");
  const Json& oldest_json = Member(time_filter, "oldestDate");
  const double oldest = oldest_json.is_number() ? oldest_json.get<double>() : 0.0;
  const Json& latest_json = Member(time_filter, "latestDate");
  const bool has_latest = latest_json.is_number();
  const double latest = has_latest ? latest_json.get<double>() : 0.0;

  // Candidates from an index, so the cost follows the runs in the window,
  // not all the runs stored.
  std::vector<std::string> window;
  const std::vector<std::string>* candidates = &window;
  std::optional<std::string> workflow_id;
  if (has("executionFilter")) {
    workflow_id = StringOr(Member(request, "executionFilter"), "workflowId");
    auto it = domain->run_ids_by_workflow_id.find(*workflow_id);
    if (it != domain->run_ids_by_workflow_id.end()) candidates = &it->second;
  } else if (open) {
    window.reserve(domain->open_by_start.size());
    for (const auto& [seq, run_id] : domain->open_by_start) window.push_back(run_id);
  } else {
    const auto& index = by_close_time ? domain->closed_by_close : domain->closed_by_start;
    // A millisecond of slack each side absorbs the rounding of the request's
    // seconds; the exact comparison below decides.
    const auto slack = std::chrono::milliseconds(1);
    const auto first = index.lower_bound({FromEpochSeconds(oldest) - slack, 0});
    const auto last = has_latest
                          ? index.upper_bound({FromEpochSeconds(latest) + slack, UINT64_MAX})
                          : index.end();
    for (auto it = first; it != last; ++it) window.push_back(it->second);
  }
  std::optional<TypeKey> type_filter;
  bool type_version = false;
  if (has("typeFilter")) {
    const Json& filter = Member(request, "typeFilter");
    type_filter = TypeKey{StringOr(filter, "name"), StringOr(filter, "version")};
    type_version = filter.contains("version");
  }
  const auto tag = has("tagFilter") ? OptString(Member(request, "tagFilter"), "tag") : std::nullopt;
  const auto status = has("closeStatusFilter")
                          ? OptString(Member(request, "closeStatusFilter"), "status")
                          : std::nullopt;

  std::vector<RunState*> out;
  for (const std::string& run_id : *candidates) {
    RunState* run = FindRun(run_id);
    if (run == nullptr || run->open != open) continue;
    const double t = Timestamp(by_close_time ? *run->close_time : run->start_time);
    if (t < oldest || (has_latest && t > latest)) continue;
    if (type_filter && (run->type.first != type_filter->first ||
                        (type_version && run->type.second != type_filter->second))) {
      continue;
    }
    if (tag && std::find(run->tags.begin(), run->tags.end(), *tag) == run->tags.end()) continue;
    if (status && run->close_status != *status) continue;
    out.push_back(run);
  }
  // Newest first by default. Runs are kept in start order.
  if (by_close_time) {
    std::stable_sort(out.begin(), out.end(), [](const RunState* a, const RunState* b) {
      return *a->close_time > *b->close_time;
    });
  } else {
    std::reverse(out.begin(), out.end());
  }
  if (BoolOr(request, "reverseOrder", false)) std::reverse(out.begin(), out.end());
  return out;
}

namespace {

Result<Json> PageOfExecutions(const std::vector<RunState*>& runs, const Json& request,
                              const std::function<Json(const RunState&)>& info) {
  std::size_t offset = 0;
  const std::string token = StringOr(request, "nextPageToken");
  if (!token.empty()) {
    ASSIGN_OR_RETURN(Json fields, DecodePageToken(token, "executions"));
    if (!fields["o"].is_number_unsigned() || fields["o"].get<std::size_t>() > runs.size()) {
      return ValidationError("Invalid nextPageToken");
    }
    offset = fields["o"].get<std::size_t>();
  }
  const std::size_t size = static_cast<std::size_t>(PageSize(request));
  const std::size_t end = std::min(runs.size(), offset + size);
  Json infos = Json::array();
  for (std::size_t i = offset; i < end; ++i) infos.push_back(info(*runs[i]));
  Json response{{"executionInfos", std::move(infos)}};
  if (end < runs.size())
    response["nextPageToken"] = EncodePageToken("executions", Json{{"o", end}});
  return response;
}

}  // namespace

Result<Json> EngineImpl::ListOpenWorkflowExecutions(const Json& request) {
  ASSIGN_OR_RETURN(auto runs, FilterExecutions(request, /*open=*/true));
  return PageOfExecutions(runs, request,
                          [this](const RunState& run) { return ExecutionInfo(run); });
}

Result<Json> EngineImpl::ListClosedWorkflowExecutions(const Json& request) {
  ASSIGN_OR_RETURN(auto runs, FilterExecutions(request, /*open=*/false));
  return PageOfExecutions(runs, request,
                          [this](const RunState& run) { return ExecutionInfo(run); });
}

Result<Json> EngineImpl::CountOpenWorkflowExecutions(const Json& request) {
  ASSIGN_OR_RETURN(auto runs, FilterExecutions(request, /*open=*/true));
  return Json{{"count", runs.size()}, {"truncated", false}};
}

Result<Json> EngineImpl::CountClosedWorkflowExecutions(const Json& request) {
  ASSIGN_OR_RETURN(auto runs, FilterExecutions(request, /*open=*/false));
  return Json{{"count", runs.size()}, {"truncated", false}};
}

}  // namespace garcon::engine
