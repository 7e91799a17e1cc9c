#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <thread>

#include "app/history.h"
#include "app/progress.h"
#include "base/status_macros.h"
#include "garcon/app.h"
#include "garcon/decider.h"
#include "garcon/engine.h"
#include "garcon/worker.h"
#include "payload/payload_service.h"

namespace garcon {
namespace {

std::string RandomSuffix() {
  std::random_device rd;
  return fmt::format("{:08x}", rd());
}

const Json& Attributes(const Json& event, const char* key) {
  static const Json kEmpty = Json::object();
  auto it = event.find(key);
  return it == event.end() ? kEmpty : *it;
}

}  // namespace

Json RunSummary::ToJson() const {
  return {{"workflowId", workflow_id}, {"runId", run_id},         {"closeStatus", close_status},
          {"result", result},          {"reason", reason},        {"details", details},
          {"historyEvents", history_events}, {"seconds", seconds}};
}

Result<RunSummary> StartFlow(const Flow& flow, swf::Service& service,
                             const RunOptions& options) {
  RETURN_IF_ERROR(Register(flow, service));
  RunSummary summary;
  summary.workflow_id =
      options.workflow_id.empty() ? flow.name() + "-" + RandomSuffix() : options.workflow_id;
  // An input past SWF's 32,768 characters is stored as a payload.
  payload::PayloadService payloads(service, options.payloads, flow.domain());
  ASSIGN_OR_RETURN(Json start,
                   payloads.Call("StartWorkflowExecution",
                                {{"domain", flow.domain()},
                                 {"workflowId", summary.workflow_id},
                                 {"workflowType", {{"name", flow.name()}, {"version", flow.version()}}},
                                 {"taskList", {{"name", flow.task_list() + options.task_list_tag}}},
                                 {"input", options.input.dump()},
                                 {"executionStartToCloseTimeout",
                                  std::to_string(flow.execution_timeout())},
                                 {"taskStartToCloseTimeout", std::to_string(flow.decision_timeout())},
                                 {"childPolicy", "TERMINATE"}}));
  summary.run_id = start.value("runId", "");
  return summary;
}

Result<RunSummary> WaitForClose(const Flow& flow, swf::Service& service, RunSummary summary,
                                bool progress, std::shared_ptr<PayloadStore> payloads) {
  const auto started = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  };
  // Asks rather than listens: the engine may be remote, so this uses nothing
  // but the service.
  const Json describe = {{"domain", flow.domain()},
                         {"execution", {{"workflowId", summary.workflow_id}, {"runId", summary.run_id}}}};
  // An engine in this process is asked often (no network, no quota); a
  // remote one at most twice a second, backing off to every 5 s while
  // nothing changes: Amazon SWF throttles a tight loop.
  const bool local = dynamic_cast<engine::Engine*>(&service) != nullptr;
  auto interval = std::chrono::milliseconds(local ? 20 : 500);
  Json last_counts;
  for (;;) {
    auto d = service.Call("DescribeWorkflowExecution", describe);
    if (!d.ok() && d.fault() != Fault::kThrottling) return d.status();
    if (d.ok() && d->at("executionInfo").value("executionStatus", "") == "CLOSED") break;
    if (progress) {
      auto events = app::FetchHistory(service, flow.domain(), summary.workflow_id, summary.run_id);
      if (events.ok()) {
        std::fprintf(stderr, "\r\033[K%s",
                     app::FormatProgress(flow.name(), app::CountProgress(*events), elapsed()).c_str());
        std::fflush(stderr);
      }
    }
    std::this_thread::sleep_for(interval);
    if (!local) {
      // Back off while nothing moves (the run's open counts stay the same).
      const Json counts = d.ok() ? d->value("openCounts", Json::object()) : last_counts;
      interval = counts != last_counts ? std::chrono::milliseconds(500)
                                       : std::min(interval * 2, std::chrono::milliseconds(5000));
      last_counts = counts;
    }
  }

  ASSIGN_OR_RETURN(std::vector<Json> events,
                   app::FetchHistory(service, flow.domain(), summary.workflow_id, summary.run_id));
  summary.history_events = events.size();
  summary.seconds = elapsed();
  if (progress) {
    std::fprintf(stderr, "\r\033[K%s\n",
                 app::FormatProgress(flow.name(), app::CountProgress(events), summary.seconds).c_str());
  }
  // The close event: the last event on SWF and Garcon's engine; searched
  // from the end, as other implementations (moto) may record the decision
  // task's completion after it.
  std::size_t close_at = events.size();
  for (std::size_t i = events.size(); i-- > 0;) {
    const std::string t = events[i].value("eventType", "");
    if (t.rfind("WorkflowExecution", 0) == 0 && t != "WorkflowExecutionSignaled" &&
        t != "WorkflowExecutionStarted" && t != "WorkflowExecutionCancelRequested") {
      close_at = i;
      break;
    }
  }
  if (close_at < events.size()) {
    // The result, or failure details, may be a payload's reference.
    Json last_only = Json::array({events[close_at]});
    payload::PayloadService resolver(service, std::move(payloads), flow.domain());
    RETURN_IF_ERROR(resolver.ResolveEvents(last_only));
    events[close_at] = std::move(last_only[0]);
  }
  const Json& last = close_at < events.size() ? events[close_at] : Json::object();
  const std::string type = last.value("eventType", "");
  if (type == "WorkflowExecutionCompleted") {
    summary.close_status = "COMPLETED";
    const Json& a = Attributes(last, "workflowExecutionCompletedEventAttributes");
    summary.result = Json::parse(a.value("result", "null"), nullptr, false);
  } else if (type == "WorkflowExecutionFailed") {
    summary.close_status = "FAILED";
    const Json& a = Attributes(last, "workflowExecutionFailedEventAttributes");
    summary.reason = a.value("reason", "");
    summary.details = a.value("details", "");
  } else if (type == "WorkflowExecutionTimedOut") {
    summary.close_status = "TIMED_OUT";
  } else if (type == "WorkflowExecutionTerminated") {
    summary.close_status = "TERMINATED";
    summary.reason = Attributes(last, "workflowExecutionTerminatedEventAttributes").value("reason", "");
  } else if (type == "WorkflowExecutionCanceled") {
    summary.close_status = "CANCELED";
    summary.details = Attributes(last, "workflowExecutionCanceledEventAttributes").value("details", "");
  } else if (type == "WorkflowExecutionContinuedAsNew") {
    summary.close_status = "CONTINUED_AS_NEW";
  } else {
    summary.close_status = "UNKNOWN";
  }
  return summary;
}

Result<RunSummary> RunFlow(const Flow& flow, swf::Service& service, const RunOptions& given) {
  RunOptions options = given;
  if (options.task_list_tag.empty()) options.task_list_tag = "~run-" + RandomSuffix();
  ASSIGN_OR_RETURN(RunSummary started, StartFlow(flow, service, options));
  for (const auto& [name, input] : options.signals) {
    Json signal = {{"domain", flow.domain()},
                   {"workflowId", started.workflow_id},
                   {"runId", started.run_id},
                   {"signalName", name}};
    if (!input.empty()) signal["input"] = input;
    payload::PayloadService payloads(service, options.payloads, flow.domain());
    RETURN_IF_ERROR(payloads.Call("SignalWorkflowExecution", signal).status());
  }
  DeciderOptions decider_options;
  decider_options.task_list_tag = options.task_list_tag;
  decider_options.payloads = options.payloads;
  WorkerOptions worker_options;
  worker_options.payloads = options.payloads;
  worker_options.pollers = options.pollers;
  worker_options.task_list_tag = options.task_list_tag;
  // A decider and workers for the flow and for each flow it runs as a child.
  std::vector<const Flow*> flows{&flow};
  for (const Flow* child : flow.ChildFlows()) flows.push_back(child);
  std::vector<std::unique_ptr<Decider>> deciders;
  std::vector<std::unique_ptr<ActivityWorker>> workers;
  for (const Flow* f : flows) {
    deciders.push_back(std::make_unique<Decider>(*f, service, decider_options));
    workers.push_back(std::make_unique<ActivityWorker>(*f, service, worker_options));
  }
  std::stop_source stop;
  std::vector<std::jthread> threads;
  for (auto& d : deciders) {
    threads.emplace_back([d = d.get(), token = stop.get_token()] { d->Run(token); });
  }
  for (auto& w : workers) {
    threads.emplace_back([w = w.get(), token = stop.get_token()] { w->Run(token); });
  }
  Result<RunSummary> summary = WaitForClose(flow, service, std::move(started), options.progress, options.payloads);
  stop.request_stop();
  if (options.release_polls) options.release_polls();
  threads.clear();  // joins
  return summary;
}

}  // namespace garcon
