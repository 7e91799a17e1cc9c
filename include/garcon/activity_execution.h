// ActivityExecution: what a running task sees of its activity — which
// execution it belongs to, a way to heartbeat, and a logger named after the
// execution.
#pragma once

#include <spdlog/logger.h>

#include <atomic>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace garcon {

struct ExecutionInfo {
  std::string domain;
  std::string workflow_id;
  std::string run_id;
  std::string activity_id;
  std::string activity_name;  // the activity type name
};

// Thrown by a task (or by ActivityExecution::ThrowIfCancelRequested) to stop
// because its activity's cancellation was requested: the worker then reports
// the activity canceled (RespondActivityTaskCanceled) with what() as the
// details, instead of failed. Any exception a task throws once cancellation
// was requested is reported the same way.
class ActivityCanceled : public std::runtime_error {
 public:
  explicit ActivityCanceled(const std::string& details = "canceled")
      : std::runtime_error(details) {}
};

// Thrown by a task whose error is not worth retrying (bad input, a refused
// payment...): the attempt fails with the reason `non-retryable: {what()}`
// and the flow decider fails the activity at once, whatever its retries.
// Workers in other languages mark a failure the same way: a reason starting
// with kNonRetryablePrefix.
class NonRetryable : public std::runtime_error {
 public:
  explicit NonRetryable(const std::string& what) : std::runtime_error(what) {}
};
inline constexpr std::string_view kNonRetryablePrefix = "non-retryable: ";

// Thread-safe: tasks of an Async runner share one ActivityExecution.
class ActivityExecution {
 public:
  // `heartbeat` records a heartbeat with the engine and returns whether
  // cancellation was requested; null for local runs (tests, tools).
  using HeartbeatFn = std::function<bool(std::string_view details)>;

  explicit ActivityExecution(ExecutionInfo info, HeartbeatFn heartbeat = nullptr);

  const ExecutionInfo& info() const { return info_; }

  // Tells the engine this activity is alive (resets its heartbeat timeout)
  // and returns true once its cancellation has been requested. Never throws:
  // a failed heartbeat is logged.
  bool Heartbeat(std::string_view details = {});

  // Whether a heartbeat has reported a cancellation request. A task learns
  // of a request only through heartbeats: a long task heartbeats (or the
  // worker's timer does it for it) and checks this, or calls
  // ThrowIfCancelRequested, to stop cleanly.
  bool cancel_requested() const { return cancel_requested_.load(); }

  // Heartbeats, then throws ActivityCanceled(`details`) if cancellation was
  // requested.
  void ThrowIfCancelRequested(std::string_view details = "canceled");

  // Logger `garcon.{domain}.{workflow_id}.{run_id}` (plain `garcon` when
  // the execution is unknown).
  const std::shared_ptr<spdlog::logger>& logger() const { return logger_; }

 private:
  ExecutionInfo info_;
  HeartbeatFn heartbeat_;
  std::atomic<bool> cancel_requested_{false};
  std::shared_ptr<spdlog::logger> logger_;
};

// The logger namespace of an execution: `garcon.{domain}.{workflow_id}.{run_id}`.
std::string LoggerName(std::string_view domain, std::string_view workflow_id,
                       std::string_view run_id);
// A logger with that name, sharing the default logger's sinks.
std::shared_ptr<spdlog::logger> ExecutionLogger(std::string_view domain,
                                                std::string_view workflow_id,
                                                std::string_view run_id);

}  // namespace garcon
