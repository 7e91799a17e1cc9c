#include "garcon/activity_execution.h"

#include <spdlog/spdlog.h>

namespace garcon {

std::string LoggerName(std::string_view domain, std::string_view workflow_id,
                       std::string_view run_id) {
  if (domain.empty() && workflow_id.empty() && run_id.empty()) return "garcon";
  std::string name = "garcon.";
  name.append(domain).append(".").append(workflow_id).append(".").append(run_id);
  return name;
}

std::shared_ptr<spdlog::logger> ExecutionLogger(std::string_view domain,
                                                std::string_view workflow_id,
                                                std::string_view run_id) {
  // Not registered in spdlog's registry: one logger per execution would grow
  // it without bound. It shares the default logger's sinks and level.
  return spdlog::default_logger()->clone(LoggerName(domain, workflow_id, run_id));
}

ActivityExecution::ActivityExecution(ExecutionInfo info, HeartbeatFn heartbeat)
    : info_(std::move(info)),
      heartbeat_(std::move(heartbeat)),
      logger_(ExecutionLogger(info_.domain, info_.workflow_id, info_.run_id)) {}

bool ActivityExecution::Heartbeat(std::string_view details) {
  if (!heartbeat_) return cancel_requested_.load();
  try {
    if (heartbeat_(details)) cancel_requested_.store(true);
  } catch (const std::exception& e) {
    logger_->warn("heartbeat of {} failed: {}", info_.activity_id, e.what());
  }
  return cancel_requested_.load();
}

void ActivityExecution::ThrowIfCancelRequested(std::string_view details) {
  if (Heartbeat()) throw ActivityCanceled(std::string(details));
}

}  // namespace garcon
