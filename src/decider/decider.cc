#include "garcon/decider.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "base/backoff.h"
#include "base/status_macros.h"
#include "flow/actors.h"
#include "payload/payload_service.h"
#include "garcon/activity_execution.h"

namespace garcon {

struct Decider::CacheEntry {
  HistoryState state;
  std::uint64_t used = 0;
};

Decider::Decider(const Flow& flow, swf::Service& service, DeciderOptions options)
    : flow_(flow),
      payload_service_(
          std::make_unique<payload::PayloadService>(service, options.payloads, flow.domain())),
      service_(*payload_service_),
      options_(std::move(options)) {
  if (options_.identity.empty()) options_.identity = flow::DefaultIdentity("decider");
}

std::shared_ptr<Decider::CacheEntry> Decider::Lookup(const std::string& run_id) {
  // Taken out of the cache: SWF hands out one decision task per run at a
  // time, so nobody else needs it until it is stored back.
  std::lock_guard lock(mu_);
  auto it = cache_.find(run_id);
  if (it == cache_.end()) return nullptr;
  auto entry = std::move(it->second);
  cache_.erase(it);
  by_use_.erase(entry->used);
  return entry;
}

void Decider::Store(const std::string& run_id, std::shared_ptr<CacheEntry> entry) {
  std::lock_guard lock(mu_);
  if (options_.cache_size == 0) return;
  if (auto stale = cache_.find(run_id); stale != cache_.end()) by_use_.erase(stale->second->used);
  entry->used = ++tick_;
  by_use_.emplace(entry->used, run_id);
  cache_[run_id] = std::move(entry);
  while (cache_.size() > options_.cache_size) {
    // by_use_ orders the cached runs by last use: the first is the oldest.
    cache_.erase(by_use_.begin()->second);
    by_use_.erase(by_use_.begin());
  }
}

Result<bool> Decider::PollOnce() {
  Json request = {{"domain", flow_.domain()},
                  {"taskList", {{"name", flow_.task_list() + options_.task_list_tag}}},
                  {"identity", options_.identity},
                  {"reverseOrder", true},
                  {"maximumPageSize", options_.page_size}};
  ASSIGN_OR_RETURN(Json task, service_.Call("PollForDecisionTask", request));
  if (!swf::HasTask(task)) return false;

  const std::string task_token = task.at("taskToken").get<std::string>();
  const Json& execution = task.at("workflowExecution");
  const ExecutionRef run{flow_.domain(), execution.value("workflowId", ""),
                         execution.value("runId", "")};
  auto entry = Lookup(run.run_id);
  if (!entry) entry = std::make_shared<CacheEntry>();
  const std::int64_t known = entry->state.last_event_id();

  // Newest first: stop reading at the events this decider already applied,
  // so a decision costs only the new events (history is append-only, so
  // what is left is exactly known+1 .. newest).
  std::vector<Json> fresh;
  Json page = std::move(task);
  for (;;) {
    bool reached = false;
    for (auto& event : page.at("events")) {
      if (event.value("eventId", std::int64_t{0}) <= known) {
        reached = true;
        break;
      }
      fresh.push_back(std::move(event));
    }
    const std::string token = page.value("nextPageToken", "");
    if (reached || token.empty()) break;
    request["nextPageToken"] = token;
    ASSIGN_OR_RETURN(page, service_.Call("PollForDecisionTask", request));
  }
  for (auto it = fresh.rbegin(); it != fresh.rend(); ++it) entry->state.Apply(*it);

  std::vector<Json> decisions = Decide(flow_, entry->state, run);
  const bool closing = std::any_of(decisions.begin(), decisions.end(), [](const Json& d) {
    const std::string type = d.value("decisionType", "");
    return type == "CompleteWorkflowExecution" || type == "FailWorkflowExecution";
  });
  auto logger = ExecutionLogger(run.domain, run.workflow_id, run.run_id);
  for (const auto& d : decisions) {
    if (d.value("decisionType", "") == "FailWorkflowExecution") {
      logger->warn("failing the workflow: {}",
                   d["failWorkflowExecutionDecisionAttributes"].value("reason", ""));
    }
  }
  logger->debug("{} new events, {} decisions", fresh.size(), decisions.size());
  // The state depends only on events, so it stays valid whatever the answer.
  if (!closing) Store(run.run_id, entry);
  RETURN_IF_ERROR(service_
                      .Call("RespondDecisionTaskCompleted",
                            {{"taskToken", task_token}, {"decisions", std::move(decisions)}})
                      .status());
  return true;
}

void Decider::Run(std::stop_token stop) {
  Backoff backoff;
  while (!stop.stop_requested()) {
    Result<bool> handled = [&]() -> Result<bool> {
      try {
        return PollOnce();
      } catch (const std::exception& e) {
        return InternalError(std::string("decider: ") + e.what());
      }
    }();
    if (handled.ok()) {
      backoff.Reset();
      continue;
    }
    if (stop.stop_requested()) break;  // the poll was ended to stop
    spdlog::warn("decider of {}: {}", flow_.name(), handled.status().ToString());
    flow::ReportException(flow_.exception_handler(), "decider",
                          std::runtime_error(handled.status().ToString()));
    backoff.Wait(stop);
  }
}

}  // namespace garcon
