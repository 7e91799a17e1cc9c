// What the engine benchmarks share: a FakeClock engine, calls that must
// succeed, and the "bench" domain with workflow type wf/1 and activity type
// act/1 (retention 30 days, so closed executions stay stored).
#pragma once

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "garcon/clock.h"
#include "garcon/engine.h"
#include "garcon/store.h"

namespace garcon::bench {

using Clock = std::chrono::steady_clock;
inline constexpr const char* kDomain = "bench";

inline double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

[[noreturn]] inline void Fail(const std::string& what, const Result<Json>& r) {
  std::fprintf(stderr, "bench: %s: %s\n", what.c_str(), r.status().ToString().c_str());
  std::exit(1);
}

inline Json Must(engine::Engine& engine, const char* op, const Json& request) {
  Result<Json> r = engine.Call(op, request);
  if (!r.ok()) Fail(op, r);
  return std::move(r).value();
}

// Time stands still: no timeout or retention fires mid-run.
inline std::unique_ptr<engine::Engine> MakeEngine(std::shared_ptr<store::Store> store) {
  engine::EngineOptions options;
  options.clock = std::make_shared<FakeClock>();
  options.timer_thread = false;
  options.poll_timeout = std::chrono::seconds(1);  // every poll finds a task at once
  options.store = std::move(store);
  return std::make_unique<engine::Engine>(std::move(options));
}

// A SQLite file with synchronous=FULL (`full`) or NORMAL; exits on failure.
inline std::shared_ptr<store::Store> OpenSqlite(const std::string& path, bool full) {
  store::SqliteOptions options;
  options.synchronous_full = full;
  auto opened = store::OpenSqliteStore(path, options);
  if (!opened.ok()) {
    std::fprintf(stderr, "bench: %s\n", opened.status().ToString().c_str());
    std::exit(1);
  }
  return *opened;
}

// Removes a SQLite file with its -wal and -shm files.
inline void RemoveDb(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm"}) std::remove((path + suffix).c_str());
}

inline void Register(engine::Engine& engine) {
  Must(engine, "RegisterDomain",
       {{"name", kDomain}, {"workflowExecutionRetentionPeriodInDays", "30"}});
  Must(engine, "RegisterWorkflowType",
       {{"domain", kDomain},
        {"name", "wf"},
        {"version", "1"},
        {"defaultTaskList", {{"name", "decisions"}}},
        {"defaultExecutionStartToCloseTimeout", "3600"},
        {"defaultTaskStartToCloseTimeout", "60"},
        {"defaultChildPolicy", "TERMINATE"}});
  Must(engine, "RegisterActivityType",
       {{"domain", kDomain},
        {"name", "act"},
        {"version", "1"},
        {"defaultTaskList", {{"name", "activities"}}},
        {"defaultTaskScheduleToStartTimeout", "600"},
        {"defaultTaskScheduleToCloseTimeout", "900"},
        {"defaultTaskStartToCloseTimeout", "300"},
        {"defaultTaskHeartbeatTimeout", "NONE"}});
}

}  // namespace garcon::bench
