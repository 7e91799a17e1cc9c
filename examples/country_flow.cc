// The seed's generator flow: one activity_2 instance per country, each
// failing at random (1 in 4) and retried up to 3 times.
//
// For repeatable runs the input may say how many times a country fails
// before it succeeds: --input '{"failures": {"2": 2}}' makes country 2 fail
// twice (then succeed on its third attempt); {"failures": {"3": 9}} exhausts
// its retries and fails the workflow with the task's own reason;
// {"delays": {"3": 8000}} makes country 3's first attempt in a worker process
// take 8 s (tests kill a worker in the middle of it, or cancel the workflow).
#include <chrono>
#include <map>
#include <mutex>
#include <random>
#include <stdexcept>
#include <thread>

#include "garcon/garcon.h"

using garcon::ActivityExecution;
using garcon::Context;
using garcon::Json;

namespace {

// Attempts at a country of one execution, in this process.
int NextAttempt(const std::string& run_id, int country_id) {
  static std::mutex mu;
  static std::map<std::pair<std::string, int>, int> attempts;
  std::lock_guard lock(mu);
  return ++attempts[{run_id, country_id}];
}

bool RandomFailure() {
  static std::mutex mu;
  static std::mt19937 rng(std::random_device{}());
  std::lock_guard lock(mu);
  return std::uniform_int_distribution<int>(0, 3)(rng) == 3;
}

Context UnstableCountryTask(ActivityExecution& activity, int country_id, Json failures,
                            Json delays) {
  const int attempt = NextAttempt(activity.info().run_id, country_id);
  const std::string key = std::to_string(country_id);
  if (delays.is_object() && attempt == 1) {
    // A slow first attempt (milliseconds), in steps: each step heartbeats
    // and stops cleanly if the workflow's cancellation was requested.
    const auto until =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(delays.value(key, 0));
    while (std::chrono::steady_clock::now() < until) {
      activity.ThrowIfCancelRequested("country " + key + " stopped: canceled");
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  const bool fail = failures.is_object() ? attempt <= failures.value(key, 0) : RandomFailure();
  if (fail) {
    activity.logger()->info("country {} has failed (attempt {})", country_id, attempt);
    throw std::runtime_error("country " + key + " fails");
  }
  activity.logger()->info("country {} has succeeded (attempt {})", country_id, attempt);
  return {{"country." + key, "done"}};
}

}  // namespace

int main(int argc, char** argv) {
  garcon::Flow flow("dev", "country_flow");
  auto& first = flow.Activity("activity_1").Run(garcon::Sync([](ActivityExecution&, const Context&) {
    return Context{{"activity_1", "done"}};
  }));
  auto& countries =
      flow.Activity("activity_2")
          .Requires({&first})
          .Generator([](const Context&) {
            std::vector<Context> out;
            for (int id = 1; id < 6; ++id) out.push_back({{"generator.country_id", id}});
            return out;
          })
          .Retry(3)
          .Run(garcon::Sync(
              garcon::Task(UnstableCountryTask, "generator.country_id", "failures", "delays")
                  // A worker that dies is noticed within 5 s (the worker
                  // heartbeats every 1.7 s while a task runs).
                  .Timeout(300, 5)));
  flow.Activity("activity_3").Requires({&countries}).Run(garcon::Sync(
      [](ActivityExecution&, const Context&) { return Context{{"end_of_flow", true}}; }));
  return garcon::Main(flow, argc, argv);
}
