#include "client/throttle.h"

#include <algorithm>
#include <cmath>

namespace garcon::client {

const std::map<std::string, RateLimit, std::less<>>& SwfRateLimits() {
  // Burst (bucket size) and refill per second, per account and region.
  static const std::map<std::string, RateLimit, std::less<>> kLimits = {
      {"CountClosedWorkflowExecutions", {2000, 12}},
      {"CountOpenWorkflowExecutions", {2000, 12}},
      {"CountPendingActivityTasks", {200, 6}},
      {"CountPendingDecisionTasks", {200, 6}},
      {"DeleteActivityType", {200, 6}},
      {"DeleteWorkflowType", {200, 6}},
      {"DeprecateActivityType", {200, 6}},
      {"DeprecateDomain", {100, 6}},
      {"DeprecateWorkflowType", {200, 6}},
      {"DescribeActivityType", {2000, 12}},
      {"DescribeDomain", {200, 6}},
      {"DescribeWorkflowExecution", {2000, 12}},
      {"DescribeWorkflowType", {2000, 12}},
      {"GetWorkflowExecutionHistory", {2000, 60}},
      {"ListActivityTypes", {200, 6}},
      {"ListClosedWorkflowExecutions", {200, 6}},
      {"ListDomains", {100, 6}},
      {"ListOpenWorkflowExecutions", {200, 48}},
      {"ListTagsForResource", {50, 30}},
      {"ListWorkflowTypes", {200, 6}},
      {"PollForActivityTask", {2000, 200}},
      {"PollForDecisionTask", {2000, 200}},
      {"RecordActivityTaskHeartbeat", {2000, 160}},
      {"RegisterActivityType", {200, 60}},
      {"RegisterDomain", {100, 6}},
      {"RegisterWorkflowType", {200, 60}},
      {"RequestCancelWorkflowExecution", {2000, 30}},
      {"RespondActivityTaskCanceled", {2000, 200}},
      {"RespondActivityTaskCompleted", {2000, 200}},
      {"RespondActivityTaskFailed", {2000, 200}},
      {"RespondDecisionTaskCompleted", {2000, 200}},
      {"SignalWorkflowExecution", {2000, 30}},
      {"StartWorkflowExecution", {2000, 200}},
      {"TagResource", {50, 30}},
      {"TerminateWorkflowExecution", {2000, 60}},
      {"UndeprecateActivityType", {200, 6}},
      {"UndeprecateDomain", {100, 6}},
      {"UndeprecateWorkflowType", {200, 6}},
      {"UntagResource", {50, 30}},
      // Decision quotas, spent by RespondDecisionTaskCompleted per decision.
      {"ScheduleActivityTask", {1000, 200}},
      {"StartTimer", {2000, 200}},
      {"StartChildWorkflowExecution", {500, 12}},
  };
  return kLimits;
}

TokenBucket::TokenBucket(RateLimit limit, SteadyTime now)
    : limit_(limit), tokens_(limit.burst), last_(now) {}

void TokenBucket::Refill(SteadyTime now) {
  if (now <= last_) return;
  const double seconds = std::chrono::duration<double>(now - last_).count();
  tokens_ = std::min(limit_.burst, tokens_ + seconds * limit_.per_second);
  last_ = now;
}

double TokenBucket::Available(SteadyTime now) {
  Refill(now);
  return tokens_;
}

std::chrono::nanoseconds TokenBucket::Reserve(double tokens, SteadyTime now) {
  Refill(now);
  tokens_ -= tokens;
  if (tokens_ >= 0 || limit_.per_second <= 0) return std::chrono::nanoseconds::zero();
  const double seconds = -tokens_ / limit_.per_second;
  return std::chrono::nanoseconds(static_cast<std::int64_t>(std::ceil(seconds * 1e9)));
}

Throttle::Throttle(std::map<std::string, RateLimit, std::less<>> limits)
    : limits_(std::move(limits)) {}

std::chrono::nanoseconds Throttle::ReserveLocked(std::string_view name, double tokens,
                                                 SteadyTime now) {
  auto limit = limits_.find(name);
  if (limit == limits_.end()) return std::chrono::nanoseconds::zero();
  auto bucket = buckets_.find(name);
  if (bucket == buckets_.end()) {
    bucket = buckets_.emplace(std::string(name), TokenBucket(limit->second, now)).first;
  }
  return bucket->second.Reserve(tokens, now);
}

std::chrono::nanoseconds Throttle::Reserve(std::string_view operation, const Json& request,
                                           SteadyTime now) {
  std::lock_guard lock(mu_);
  std::chrono::nanoseconds wait = ReserveLocked(operation, 1, now);
  if (operation == "RespondDecisionTaskCompleted" && request.is_object()) {
    auto decisions = request.find("decisions");
    if (decisions != request.end() && decisions->is_array()) {
      std::map<std::string, double, std::less<>> by_type;
      for (const Json& d : *decisions) {
        if (!d.is_object()) continue;
        auto type = d.find("decisionType");
        if (type != d.end() && type->is_string()) by_type[type->get<std::string>()] += 1;
      }
      for (const auto& [type, count] : by_type) {
        wait = std::max(wait, ReserveLocked(type, count, now));
      }
    }
  }
  return wait;
}

}  // namespace garcon::client
