// The durable engine's figures, each beside its baseline measured in the
// same run:
//
// 1. Durable calls per second on a SQLite file with synchronous=FULL and
//    1, 8 and 32 concurrent clients, beside the memory-only engine. One
//    client waits for one commit (one fsync) per call: that figure is the
//    one-fsync-per-call design; more clients share commits (group commit).
//    Each client drives its own workflows on its own task lists: Start,
//    PollForDecisionTask, RespondDecisionTaskCompleted (schedules an
//    activity), PollForActivityTask, RespondActivityTaskCompleted,
//    PollForDecisionTask, RespondDecisionTaskCompleted (completes): seven
//    calls, every one of which writes.
// 2. Opening a file with 1,000 open runs and 10,000, 50,000 then 100,000
//    closed ones: the open time and the resident memory of a fresh process
//    that opens it (`durable_bench --open FILE`), which should not grow with
//    the closed runs.
//
//   durable_bench            both
//   durable_bench --quick    fewer closed runs (1,000 / 5,000 / 10,000)
//   durable_bench --clients N [SECONDS [memory]]
//                            only the SQLite FULL (or memory-only) figure
//                            with N clients, to profile one under perf
//
// Prints its figures; asserts nothing about time.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bench_engine.h"
#include "garcon/engine.h"
#include "garcon/store.h"

namespace {

using garcon::Json;
using garcon::Result;
using garcon::bench::Clock;
using garcon::bench::Fail;
using garcon::bench::kDomain;
using garcon::bench::MakeEngine;
using garcon::bench::Must;
using garcon::bench::OpenSqlite;
using garcon::bench::RemoveDb;
using garcon::bench::Register;
using garcon::bench::Seconds;
using garcon::engine::Engine;


// One workflow of client `client` through seven calls.
void OneWorkflow(Engine& engine, int client, long n) {
  const std::string decisions = "d-" + std::to_string(client);
  const std::string activities = "a-" + std::to_string(client);
  const Json poll_decision{{"domain", kDomain}, {"taskList", {{"name", decisions}}}};
  const Json poll_activity{{"domain", kDomain}, {"taskList", {{"name", activities}}}};
  Must(engine, "StartWorkflowExecution",
       {{"domain", kDomain},
        {"workflowId", "c" + std::to_string(client) + "-" + std::to_string(n)},
        {"workflowType", {{"name", "wf"}, {"version", "1"}}},
        {"taskList", {{"name", decisions}}},
        {"input", "in"}});
  const Json d1 = Must(engine, "PollForDecisionTask", poll_decision);
  if (!d1.contains("taskToken")) Fail("no decision task", Result<Json>(d1));
  Must(engine, "RespondDecisionTaskCompleted",
       {{"taskToken", d1["taskToken"]},
        {"decisions",
         {{{"decisionType", "ScheduleActivityTask"},
           {"scheduleActivityTaskDecisionAttributes",
            {{"activityType", {{"name", "act"}, {"version", "1"}}},
             {"activityId", "a"},
             {"taskList", {{"name", activities}}},
             {"input", "x"}}}}}}});
  const Json a = Must(engine, "PollForActivityTask", poll_activity);
  if (!a.contains("taskToken")) Fail("no activity task", Result<Json>(a));
  Must(engine, "RespondActivityTaskCompleted", {{"taskToken", a["taskToken"]}, {"result", "y"}});
  const Json d2 = Must(engine, "PollForDecisionTask", poll_decision);
  if (!d2.contains("taskToken")) Fail("no second decision task", Result<Json>(d2));
  Must(engine, "RespondDecisionTaskCompleted",
       {{"taskToken", d2["taskToken"]},
        {"decisions",
         {{{"decisionType", "CompleteWorkflowExecution"},
           {"completeWorkflowExecutionDecisionAttributes", {{"result", "done"}}}}}}});
}

// Calls per second with `clients` threads for about `seconds`.
double CallsPerSecond(Engine& engine, int clients, double seconds) {
  std::atomic<long> workflows{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  const auto t0 = Clock::now();
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      static std::atomic<long> serial{0};
      while (!stop.load()) {
        OneWorkflow(engine, c, serial++);
        ++workflows;
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& t : threads) t.join();
  return workflows.load() * 7.0 / Seconds(t0);
}

long ResidentKiB() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return -1;
}

// Measures `clients` on the SQLite engine and prints the figure with how
// the commits went: calls per commit, and the time a commit takes.
double MeasureSqlite(Engine& engine, int clients, double seconds, double one) {
  const auto before = engine.GetStats();
  const double rate = CallsPerSecond(engine, clients, seconds);
  const auto after = engine.GetStats();
  const double commits = static_cast<double>(after.store_commits - before.store_commits);
  const double commit_us = (after.store_commit_seconds - before.store_commit_seconds) * 1e6;
  std::printf("%-28s %8d %12.0f %9.1fx   (%.1f calls per commit, %.0f us per commit)\n",
              "SQLite FULL, group commit", clients, rate, one > 0 ? rate / one : 1.0,
              commits > 0 ? rate * seconds / commits : 0.0, commits > 0 ? commit_us / commits : 0.0);
  return rate;
}

// `durable_bench --clients N SECONDS`: the SQLite figure alone.
int ClientsOnly(int clients, double seconds, bool memory) {
  if (memory) {
    auto engine = MakeEngine(nullptr);
    Register(*engine);
    std::printf("%-28s %8d %12.0f\n", "memory only", clients,
                CallsPerSecond(*engine, clients, seconds));
    return 0;
  }
  const std::string path = std::filesystem::temp_directory_path().string() +
                           "/garcon-durable-bench-" + std::to_string(getpid()) + ".db";
  RemoveDb(path);
  {
    auto engine = MakeEngine(OpenSqlite(path, true));
    Register(*engine);
    MeasureSqlite(*engine, clients, seconds, 0);
  }
  RemoveDb(path);
  return 0;
}

// `durable_bench --open FILE`: opens FILE, prints "seconds rss_kib open closed".
int OpenOnly(const std::string& path) {
  const long before = ResidentKiB();
  const auto t0 = Clock::now();
  auto engine = MakeEngine(OpenSqlite(path, true));
  const double seconds = Seconds(t0);
  const auto stats = engine->GetStats();
  std::printf("%.4f %ld %ld %zu %zu\n", seconds, ResidentKiB(), before, stats.open_executions,
              stats.closed_executions);
  return 0;
}

// Adds `closed` closed runs (start, terminate) and, if `open`, that many open
// ones, with 8 threads.
void Preload(Engine& engine, long closed, long open, long* serial) {
  std::atomic<long> next{*serial};
  const long end = *serial + closed;
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (long i = next++; i < end; i = next++) {
        const std::string id = "pre-" + std::to_string(i);
        const Json started = Must(engine, "StartWorkflowExecution",
                                  {{"domain", kDomain},
                                   {"workflowId", id},
                                   {"workflowType", {{"name", "wf"}, {"version", "1"}}},
                                   {"input", "preloaded"}});
        Must(engine, "TerminateWorkflowExecution",
             {{"domain", kDomain}, {"workflowId", id}, {"runId", started["runId"]}});
      }
    });
  }
  for (auto& t : threads) t.join();
  *serial = end;
  for (long i = 0; i < open; ++i) {
    Must(engine, "StartWorkflowExecution",
         {{"domain", kDomain},
          {"workflowId", "open-" + std::to_string(i)},
          {"workflowType", {{"name", "wf"}, {"version", "1"}}}});
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::strcmp(argv[1], "--open") == 0) return OpenOnly(argv[2]);
  const int only_clients =
      argc >= 3 && std::strcmp(argv[1], "--clients") == 0 ? std::atoi(argv[2]) : 0;
  if (only_clients >= 1) {
    return ClientsOnly(only_clients, argc > 3 ? std::atof(argv[3]) : 5.0,
                       argc > 4 && std::strcmp(argv[4], "memory") == 0);
  }
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  if (argc > 2 || (argc == 2 && !quick)) {
    std::fprintf(stderr,
                 "usage: durable_bench [--quick] | --clients N [SECONDS [memory]] | "
                 "--open FILE\n");
    return 2;
  }
  const std::string dir = std::filesystem::temp_directory_path().string();
  const std::string path = dir + "/garcon-durable-bench-" + std::to_string(getpid()) + ".db";
  const double seconds = quick ? 1.0 : 3.0;

  std::printf("== durable calls/s (7 writing calls per workflow, %.0f s each)\n", seconds);
  std::printf("%-28s %8s %12s %10s\n", "engine", "clients", "calls/s", "vs 1 client");
  {
    auto engine = MakeEngine(nullptr);
    Register(*engine);
    for (int clients : {1, 8, 32}) {
      const double rate = CallsPerSecond(*engine, clients, seconds);
      std::printf("%-28s %8d %12.0f\n", "memory only", clients, rate);
    }
  }
  {
    RemoveDb(path);
    auto engine = MakeEngine(OpenSqlite(path, true));
    Register(*engine);
    double one = 0;
    for (int clients : {1, 8, 32}) {
      const double rate = MeasureSqlite(*engine, clients, seconds, one);
      if (clients == 1) one = rate;
    }
  }

  std::printf("\n== opening a file with 1,000 open runs (a fresh process each time)\n");
  std::printf("%10s %10s %10s %12s\n", "closed", "open s", "RSS MiB", "RSS delta MiB");
  RemoveDb(path);
  long serial = 0;
  long stored = 0;
  const std::vector<long> steps =
      quick ? std::vector<long>{1000, 5000, 10000} : std::vector<long>{10000, 50000, 100000};
  for (std::size_t i = 0; i < steps.size(); ++i) {
    {
      auto engine = MakeEngine(OpenSqlite(path, false));
      if (i == 0) Register(*engine);
      Preload(*engine, steps[i] - stored, i == 0 ? 1000 : 0, &serial);
      stored = steps[i];
    }
    const std::string command = std::string("'") + argv[0] + "' --open '" + path + "'";
    FILE* child = ::popen(command.c_str(), "r");
    double open_seconds = 0;
    long rss = 0, before = 0;
    std::size_t open_runs = 0, closed_runs = 0;
    if (child == nullptr ||
        std::fscanf(child, "%lf %ld %ld %zu %zu", &open_seconds, &rss, &before, &open_runs,
                    &closed_runs) != 5) {
      std::fprintf(stderr, "durable_bench: the --open child failed\n");
      return 1;
    }
    ::pclose(child);
    std::printf("%10zu %10.3f %10.1f %12.1f   (open runs: %zu)\n", closed_runs, open_seconds,
                rss / 1024.0, (rss - before) / 1024.0, open_runs);
  }
  RemoveDb(path);
  return 0;
}
