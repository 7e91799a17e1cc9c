#include "garcon/worker.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "base/backoff.h"
#include "base/limits.h"
#include "base/status_macros.h"
#include "flow/actors.h"
#include "garcon/activity_execution.h"
#include "payload/payload_service.h"

namespace garcon {
namespace {

// Heartbeats on a timer while a task runs.
class HeartbeatTicker {
 public:
  HeartbeatTicker(ActivityExecution& activity, std::chrono::milliseconds interval)
      : thread_([this, &activity, interval](std::stop_token stop) {
          std::unique_lock lock(mu_);
          while (!cv_.wait_for(lock, stop, interval, [] { return false; }) &&
                 !stop.stop_requested()) {
            lock.unlock();
            activity.Heartbeat();
            lock.lock();
          }
        }) {}

 private:
  std::mutex mu_;
  std::condition_variable_any cv_;
  std::jthread thread_;  // last: stopped and joined first
};

}  // namespace

ActivityWorker::ActivityWorker(const Flow& flow, swf::Service& service, WorkerOptions options)
    : flow_(flow),
      payload_service_(
          std::make_unique<payload::PayloadService>(service, options.payloads, flow.domain())),
      service_(*payload_service_),
      options_(std::move(options)) {
  if (options_.identity.empty()) options_.identity = flow::DefaultIdentity("worker");
  // spdlog's registry and default logger come to be on first use: make that
  // this thread, before the poll threads clone the logger for each task.
  (void)spdlog::default_logger();
  if (options_.activities.empty()) {
    for (const auto& a : flow_.activities()) {
      if (a->local()) activities_.push_back(a.get());
    }
  } else {
    for (const auto& name : options_.activities) {
      const Activity* a = flow_.FindActivity(name);
      if (a == nullptr) throw std::invalid_argument("unknown activity: " + name);
      if (a->external()) {
        throw std::invalid_argument("activity " + name + " is External: another worker runs it");
      }
      if (a->child()) {
        throw std::invalid_argument("activity " + name +
                                    " runs a child flow: the child's own workers run its tasks");
      }
      activities_.push_back(a);
    }
  }
}

Result<bool> ActivityWorker::PollOnce(const Activity& activity) {
  ASSIGN_OR_RETURN(Json task, service_.Call("PollForActivityTask",
                                            {{"domain", flow_.domain()},
                                             {"taskList",
                                              {{"name", activity.task_list() +
                                                            options_.task_list_tag}}},
                                             {"identity", options_.identity}}));
  if (!swf::HasTask(task)) return false;
  const std::string token = task.at("taskToken").get<std::string>();
  const Json type = task.value("activityType", Json::object());
  if (type.is_object() && (type.value("name", activity.name()) != activity.name() ||
                           type.value("version", flow_.version()) != flow_.version())) {
    // Scheduled on this version's list by someone else: this code does not
    // know that type, so the attempt fails with a reason that says why.
    const std::string reason = "task of " + type.value("name", std::string("?")) + " version " +
                               type.value("version", std::string("?")) + " on the task list of " +
                               activity.name() + " version " + flow_.version();
    spdlog::warn("worker of {}: {}", activity.name(), reason);
    RETURN_IF_ERROR(service_
                        .Call("RespondActivityTaskFailed",
                              {{"taskToken", token},
                               {"reason", limits::CutToCharacters(reason, 255)},
                               {"details", reason}})
                        .status());
    return true;
  }
  const Json& execution = task.value("workflowExecution", Json::object());
  ExecutionInfo info{flow_.domain(), execution.value("workflowId", ""),
                     execution.value("runId", ""), task.value("activityId", ""),
                     activity.name()};
  ActivityExecution run(std::move(info), [this, &token](std::string_view details) {
    Json request = {{"taskToken", token}};
    if (!details.empty()) request["details"] = std::string(details);
    auto r = service_.Call("RecordActivityTaskHeartbeat", request);
    if (!r.ok()) throw std::runtime_error(r.status().ToString());
    return r->value("cancelRequested", false);
  });

  std::string result_text;
  std::string failure;
  std::string details;
  bool canceled = false;
  try {
    Context context = Json::parse(task.value("input", std::string("{}")));
    if (!context.is_object()) throw std::runtime_error("the activity input is not a JSON object");
    std::chrono::milliseconds interval = options_.heartbeat_interval;
    const int heartbeat_timeout = activity.runner().Heartbeat(context);
    if (heartbeat_timeout > 0) {
      // In 64 bits: a timeout over 24 days would overflow an int.
      interval = std::min(interval,
                          std::chrono::milliseconds(std::int64_t{heartbeat_timeout} * 1000 / 3));
    }
    interval = std::max(interval, std::chrono::milliseconds(100));
    Context result;
    {
      HeartbeatTicker ticker(run, interval);
      result = activity.runner().Execute(run, context);
    }
    result_text = result.dump();  // throws on invalid UTF-8: not serialisable
    // Past SWF's 32,768 characters the result is stored as a payload.
    if (result_text.size() > kMaxPayloadBytes) {
      throw std::length_error("the activity result is " + std::to_string(result_text.size()) +
                              " bytes; Garcon stores payloads of up to " +
                              std::to_string(kMaxPayloadBytes) + " bytes");
    }
  } catch (const ActivityCanceled& e) {
    canceled = true;
    details = limits::ValidUtf8(e.what());
  } catch (const std::exception& e) {
    failure = limits::ValidUtf8(e.what());
    // Marked in the reason, which the decider reads from the history.
    if (dynamic_cast<const NonRetryable*>(&e) != nullptr) {
      failure = std::string(kNonRetryablePrefix) + failure;
    }
    details = failure;
    // A task that stops because it was asked to is not a failure.
    canceled = run.cancel_requested();
    if (!canceled) {
      run.logger()->warn("activity {} failed: {}", run.info().activity_id, failure);
      flow::ReportException(activity.exception_handler(), activity.name(), e);
    }
  } catch (...) {
    // A task may throw anything; it must not escape into the poll loop.
    failure = "unknown exception (not a std::exception)";
    details = failure;
    run.logger()->warn("activity {} failed: {}", run.info().activity_id, failure);
    flow::ReportException(activity.exception_handler(), activity.name(),
                          std::runtime_error(failure));
  }

  if (canceled) {
    run.logger()->info("activity {} canceled: {}", run.info().activity_id, details);
    RETURN_IF_ERROR(service_
                        .Call("RespondActivityTaskCanceled",
                              {{"taskToken", token},
                               {"details", limits::CutToCharacters(
                                               details, limits::kMaxDataCharacters)}})
                        .status());
  } else if (failure.empty()) {
    RETURN_IF_ERROR(
        service_.Call("RespondActivityTaskCompleted", {{"taskToken", token}, {"result", result_text}})
            .status());
  } else {
    // The original cuts the reason to 255 characters.
    RETURN_IF_ERROR(service_
                        .Call("RespondActivityTaskFailed",
                              {{"taskToken", token},
                               {"reason", limits::CutToCharacters(failure, 255)},
                               {"details", limits::CutToCharacters(
                                               details, limits::kMaxDataCharacters)}})
                        .status());
  }
  return true;
}

void ActivityWorker::Run(std::stop_token stop) {
  std::vector<std::jthread> loops;
  const int pollers = std::max(1, options_.pollers);
  for (const Activity* activity : activities_) {
    for (int i = 0; i < pollers; ++i) loops.emplace_back([this, activity, stop] {
      Backoff backoff;
      while (!stop.stop_requested()) {
        Result<bool> handled = [&]() -> Result<bool> {
          try {
            return PollOnce(*activity);
          } catch (const std::exception& e) {  // e.g. a malformed poll response
            return InternalError(std::string("worker: ") + e.what());
          }
        }();
        if (handled.ok()) {
          backoff.Reset();
          continue;
        }
        if (stop.stop_requested()) break;  // the poll was ended to stop
        spdlog::warn("worker of {}: {}", activity->name(), handled.status().ToString());
        flow::ReportException(activity->exception_handler(), activity->name(),
               std::runtime_error(handled.status().ToString()));
        backoff.Wait(stop);
      }
    });
  }
}

}  // namespace garcon
