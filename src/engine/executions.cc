// Workflow executions from the outside: start, signal, cancel request,
// terminate, describe, history, and the visibility lists and counts.
#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>
#include <functional>

#include "base/status_macros.h"
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
  return Object("runId", created.run_id);
}

Result<Json> EngineImpl::SignalWorkflowExecution(const Json& request) {
  ASSIGN_OR_RETURN(RunState * run,
                   RequireOpenRun(StringOr(request, "domain"), StringOr(request, "workflowId"),
                                  StringOr(request, "runId")));
  Json attributes = Object("signalName", StringOr(request, "signalName"));
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

Json EngineImpl::ExecutionInfo(const RunState& run) {
  Json info = Object("execution", ExecutionJson(run.workflow_id, run.run_id),
                     "workflowType", TypeJson(run.type.first, run.type.second),
                     "startTimestamp", Timestamp(run.start_time),
                     "executionStatus", run.open ? "OPEN" : "CLOSED",
                     "cancelRequested", run.cancel_requested);
  if (!run.open) {
    info["closeTimestamp"] = Timestamp(*run.close_time);
    info["closeStatus"] = run.close_status;
  }
  if (!run.tags.empty()) info["tagList"] = run.tags;
  if (run.parent) info["parent"] = ExecutionJson(run.parent->workflow_id, run.parent->run_id);
  return info;
}

Json EngineImpl::DescribeJson(const RunState& run) {
  Json configuration = Object("taskStartToCloseTimeout", run.task_start_to_close_timeout,
                              "executionStartToCloseTimeout", run.execution_start_to_close_timeout,
                              "taskList", TaskListJson(run.task_list),
                              "childPolicy", run.child_policy);
  SetIf(configuration, "taskPriority", run.task_priority);
  SetIf(configuration, "lambdaRole", run.lambda_role);
  const bool decision_open =
      run.decision.scheduled_event_id != 0 || run.decision.started_event_id != 0;
  Json detail = Object("executionInfo", ExecutionInfo(run),
                       "executionConfiguration", std::move(configuration),
                       "openCounts", Object("openActivityTasks", run.activities.size(),
                                            "openDecisionTasks", decision_open ? 1 : 0,
                                            "openTimers", run.timers.size(),
                                            "openChildWorkflowExecutions", run.children.size(),
                                            "openLambdaFunctions", 0));
  if (run.latest_activity_task_timestamp) {
    detail["latestActivityTaskTimestamp"] = Timestamp(*run.latest_activity_task_timestamp);
  }
  SetIf(detail, "latestExecutionContext", run.latest_execution_context);
  return detail;
}

namespace {

Status UnknownExecutionOf(const Json& execution) {
  const std::string workflow_id = StringOr(execution, "workflowId");
  const std::string run_id = StringOr(execution, "runId");
  return UnknownResource("Unknown execution: WorkflowExecution=[workflowId=" + workflow_id +
                         ", runId=" + run_id + "]");
}

// The row of a closed run named by `execution` in `domain`.
Result<store::RunRecord> ClosedRecord(store::Store& store, const std::string& domain,
                                      const Json& execution) {
  ASSIGN_OR_RETURN(auto record, store.FindRun(StringOr(execution, "runId")));
  if (!record || record->domain != domain ||
      record->workflow_id != StringOr(execution, "workflowId")) {
    return UnknownExecutionOf(execution);
  }
  return std::move(*record);
}

// The cursor of a history page token for run `run_id` of `count` events.
Result<std::optional<EventId>> HistoryCursor(const Json& request, const std::string& run_id,
                                             EventId count, bool* reverse) {
  const std::string token = StringOr(request, "nextPageToken");
  if (token.empty()) return std::optional<EventId>();
  ASSIGN_OR_RETURN(Json fields, DecodePageToken(token, "history"));
  if (!fields["r"].is_string() || fields["r"] != run_id || !fields["n"].is_number_integer() ||
      !fields["rv"].is_boolean() || fields["n"].get<EventId>() < 1 ||
      fields["n"].get<EventId>() > count) {
    return ValidationError("Invalid nextPageToken for this execution's history");
  }
  *reverse = fields["rv"].get<bool>();
  return std::optional<EventId>(fields["n"].get<EventId>());
}

Json HistoryResponse(EventPage page, const std::string& run_id, bool reverse) {
  Json response = Object("events", std::move(page.events));
  if (page.next) {
    response["nextPageToken"] =
        EncodePageToken("history", Object("r", run_id, "n", *page.next, "rv", reverse));
  }
  return response;
}

}  // namespace

Result<Json> EngineImpl::DescribeWorkflowExecution(const Json& request) {
  const std::string domain = StringOr(request, "domain");
  const Json& execution = Member(request, "execution");
  // A run that closed lately (never in `runs_` too; its domain exists).
  if (const RunState* closed = FindRecentClosed(domain, execution)) return DescribeJson(*closed);
  auto run = RequireExecution(domain, execution);
  if (run.ok()) return DescribeJson(**run);
  if (run.fault() != Fault::kUnknownResource || FindDomain(domain) == nullptr) return run.status();
  // Not in memory: a closed run, read from the store.
  pending_read_ = [domain, execution](store::Store& store) -> Result<Json> {
    ASSIGN_OR_RETURN(store::RunRecord record, ClosedRecord(store, domain, execution));
    return DescribeJson(RunFromRecord(record));
  };
  return Json::object();
}

Result<Json> EngineImpl::GetWorkflowExecutionHistory(const Json& request) {
  const std::string domain = StringOr(request, "domain");
  const Json& execution = Member(request, "execution");
  const int page_size = PageSize(request);
  auto found = RequireExecution(domain, execution);
  if (found.ok()) {
    const RunState& run = **found;
    const auto last = static_cast<EventId>(run.events.size());
    bool reverse = BoolOr(request, "reverseOrder", false);
    ASSIGN_OR_RETURN(auto cursor, HistoryCursor(request, run.run_id, last, &reverse));
    return HistoryResponse(PageEvents(run.events, 1, last, cursor, page_size, reverse),
                           run.run_id, reverse);
  }
  if (found.fault() != Fault::kUnknownResource || FindDomain(domain) == nullptr) {
    return found.status();
  }
  pending_read_ = [domain, execution, request, page_size](store::Store& store) -> Result<Json> {
    ASSIGN_OR_RETURN(store::RunRecord record, ClosedRecord(store, domain, execution));
    const EventId last = StoredEventCount(record);
    bool reverse = BoolOr(request, "reverseOrder", false);
    ASSIGN_OR_RETURN(auto cursor, HistoryCursor(request, record.run_id, last, &reverse));
    ASSIGN_OR_RETURN(EventPage page, PageStoredEvents(store, record.run_id, last, 1, last, cursor,
                                                      page_size, reverse));
    return HistoryResponse(std::move(page), record.run_id, reverse);
  };
  return Json::object();
}

// --- visibility -------------------------------------------------------------------------

namespace {

bool Has(const Json& request, const char* key) {
  auto it = request.find(key);
  return it != request.end() && !it->is_null();
}

Status CheckExclusiveFilters(const Json& request) {
  const int exclusive = int{Has(request, "executionFilter")} + int{Has(request, "typeFilter")} +
                        int{Has(request, "tagFilter")} + int{Has(request, "closeStatusFilter")};
  if (exclusive > 1) {
    return ValidationError(
        "executionFilter, typeFilter, tagFilter and closeStatusFilter are mutually exclusive: "
        "specify at most one");
  }
  return Status::Ok();
}

// Seconds since the epoch (as the wire has them) to whole microseconds.
std::int64_t Micros(double seconds) {
  const double us = seconds * 1e6;
  if (us >= 9.2e18) return INT64_MAX;
  if (us <= -9.2e18) return INT64_MIN;
  return std::llround(us);
}

}  // namespace

Result<std::vector<RunState*>> EngineImpl::FilterOpenExecutions(const Json& request) {
  ASSIGN_OR_RETURN(DomainState * domain, RequireDomain(StringOr(request, "domain")));
  RETURN_IF_ERROR(CheckExclusiveFilters(request));
  const Json& time_filter = Member(request, "startTimeFilter");
  const Json& oldest_json = Member(time_filter, "oldestDate");
  const double oldest = oldest_json.is_number() ? oldest_json.get<double>() : 0.0;
  const Json& latest_json = Member(time_filter, "latestDate");
  const bool has_latest = latest_json.is_number();
  const double latest = has_latest ? latest_json.get<double>() : 0.0;

  // Open runs are all in memory, in start order.
  std::vector<std::string> candidates;
  if (Has(request, "executionFilter")) {
    const std::string workflow_id = StringOr(Member(request, "executionFilter"), "workflowId");
    auto it = domain->open_run_by_workflow_id.find(workflow_id);
    if (it != domain->open_run_by_workflow_id.end()) candidates.push_back(it->second);
  } else {
    candidates.reserve(domain->open_by_start.size());
    for (const auto& [seq, run_id] : domain->open_by_start) candidates.push_back(run_id);
  }
  std::optional<TypeKey> type_filter;
  bool type_version = false;
  if (Has(request, "typeFilter")) {
    const Json& filter = Member(request, "typeFilter");
    type_filter = TypeKey{StringOr(filter, "name"), StringOr(filter, "version")};
    type_version = filter.contains("version");
  }
  const auto tag =
      Has(request, "tagFilter") ? OptString(Member(request, "tagFilter"), "tag") : std::nullopt;

  std::vector<RunState*> out;
  for (const std::string& run_id : candidates) {
    RunState* run = FindRun(run_id);
    if (run == nullptr || !run->open) continue;
    const double t = Timestamp(run->start_time);
    if (t < oldest || (has_latest && t > latest)) continue;
    if (type_filter && (run->type.first != type_filter->first ||
                        (type_version && run->type.second != type_filter->second))) {
      continue;
    }
    if (tag && std::find(run->tags.begin(), run->tags.end(), *tag) == run->tags.end()) continue;
    out.push_back(run);
  }
  // Newest first by default.
  if (!BoolOr(request, "reverseOrder", false)) std::reverse(out.begin(), out.end());
  return out;
}

Result<store::ClosedQuery> EngineImpl::ClosedQueryOf(const Json& request) {
  ASSIGN_OR_RETURN(DomainState * domain, RequireDomain(StringOr(request, "domain")));
  RETURN_IF_ERROR(CheckExclusiveFilters(request));
  store::ClosedQuery query;
  query.domain = domain->name;
  query.by_close_time = Has(request, "closeTimeFilter");
  if (Has(request, "startTimeFilter") == query.by_close_time) {
    return ValidationError("Specify exactly one of startTimeFilter and closeTimeFilter");
  }
  const Json& time_filter = query.by_close_time ? Member(request, "closeTimeFilter")
                                                : Member(request, "startTimeFilter");
  const Json& oldest = Member(time_filter, "oldestDate");
  query.oldest_us = oldest.is_number() ? Micros(oldest.get<double>()) : 0;
  const Json& latest = Member(time_filter, "latestDate");
  if (latest.is_number()) query.latest_us = Micros(latest.get<double>());
  if (Has(request, "executionFilter")) {
    query.workflow_id = StringOr(Member(request, "executionFilter"), "workflowId");
  }
  if (Has(request, "typeFilter")) {
    const Json& filter = Member(request, "typeFilter");
    query.type_name = StringOr(filter, "name");
    query.type_version = OptString(filter, "version");
  }
  if (Has(request, "tagFilter")) query.tag = OptString(Member(request, "tagFilter"), "tag");
  if (Has(request, "closeStatusFilter")) {
    query.close_status = OptString(Member(request, "closeStatusFilter"), "status");
  }
  query.reverse = BoolOr(request, "reverseOrder", false);
  return query;
}

Result<Json> EngineImpl::ListOpenWorkflowExecutions(const Json& request) {
  ASSIGN_OR_RETURN(auto runs, FilterOpenExecutions(request));
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
  for (std::size_t i = offset; i < end; ++i) infos.push_back(ExecutionInfo(*runs[i]));
  Json response = Object("executionInfos", std::move(infos));
  if (end < runs.size())
    response["nextPageToken"] = EncodePageToken("executions", Object("o", end));
  return response;
}

Result<Json> EngineImpl::CountOpenWorkflowExecutions(const Json& request) {
  ASSIGN_OR_RETURN(auto runs, FilterOpenExecutions(request));
  return Object("count", runs.size(), "truncated", false);
}

Result<Json> EngineImpl::ListClosedWorkflowExecutions(const Json& request) {
  ASSIGN_OR_RETURN(store::ClosedQuery query, ClosedQueryOf(request));
  // Keyset paging: the token holds where the previous page ended.
  const std::string token = StringOr(request, "nextPageToken");
  if (!token.empty()) {
    ASSIGN_OR_RETURN(Json fields, DecodePageToken(token, "closed"));
    if (!fields["t"].is_number_integer() || !fields["s"].is_number_unsigned()) {
      return ValidationError("Invalid nextPageToken");
    }
    query.after = std::make_pair(fields["t"].get<std::int64_t>(), fields["s"].get<std::uint64_t>());
  }
  const std::size_t size = static_cast<std::size_t>(PageSize(request));
  pending_read_ = [query, size](store::Store& store) -> Result<Json> {
    ASSIGN_OR_RETURN(auto records, store.ListClosed(query, size + 1));
    const bool more = records.size() > size;
    if (more) records.pop_back();
    Json infos = Json::array();
    for (const auto& record : records) infos.push_back(ExecutionInfo(RunFromRecord(record)));
    Json response = Object("executionInfos", std::move(infos));
    if (more) {
      const auto& last = records.back();
      response["nextPageToken"] = EncodePageToken(
          "closed",
          Object("t", query.by_close_time ? last.close_us : last.start_us, "s", last.start_seq));
    }
    return response;
  };
  return Json::object();
}

Result<Json> EngineImpl::CountClosedWorkflowExecutions(const Json& request) {
  ASSIGN_OR_RETURN(store::ClosedQuery query, ClosedQueryOf(request));
  pending_read_ = [query](store::Store& store) -> Result<Json> {
    ASSIGN_OR_RETURN(std::size_t count, store.CountClosed(query));
    return Object("count", count, "truncated", false);
  };
  return Json::object();
}

}  // namespace garcon::engine
