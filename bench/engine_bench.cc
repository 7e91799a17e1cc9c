// Engine calls per second with 100, 10,000 and 100,000 stored executions:
// the claim is that a call's cost does not grow with the number of stored
// executions (indexes, not scans), so the per-call cost at 100,000 over the
// cost at 100 stays near 1.
//
// Configurations: the memory-only engine (no store), the engine on the
// memory store, and on a SQLite file with synchronous=NORMAL and FULL.
// Each is preloaded with N closed executions (StartWorkflowExecution then
// TerminateWorkflowExecution: two calls, two transactions each); the SQLite
// file is preloaded with synchronous=NORMAL, measured, then reopened with
// synchronous=FULL (a reopen loads the open executions only: its time is
// printed too) and measured again. Then a fixed mix of 8 calls per iteration
// is timed: StartWorkflowExecution, PollForDecisionTask,
// RespondDecisionTaskCompleted (schedules one activity), PollForActivityTask,
// RespondActivityTaskCompleted, PollForDecisionTask,
// RespondDecisionTaskCompleted (completes), DescribeWorkflowExecution.
// Seven of the eight write, so with synchronous=FULL each costs an fsync:
// that configuration runs fewer iterations.
//
// Time stands still (FakeClock): no timeout or retention fires mid-run.
// The warm-up and measured iterations add executions of their own (the
// table's stored@end says how many were stored at the end). The iterations
// run in 10 chunks: calls/s and us/call are the median chunk's (robust to a
// loaded machine's pauses), "mean us" is over all iterations. Both include
// the driver's own work between calls (building each request as a Json
// tree, destroying each answer); "engine us" is the mean time spent inside
// Engine::Call alone, the engine's own cost per call.
//
//   engine_bench           N = 100, 10,000, 100,000
//   engine_bench --quick   N = 100, 1,000, 10,000, fewer iterations
//   engine_bench [--quick] --memory-only   the memory-only rows alone (to
//                          profile the engine's own work under perf)
//
// The ratio of the per-call cost at the largest N to the smallest is printed
// per configuration; for SQLite FULL also from the two files taking turns
// (interleaved), the figure `make bench` holds to its target, since a disk's
// fsync time drifts between the moments the rows are measured.
//
// engine_bench runs on the C library's malloc (what a program linking the
// library gets unless it chooses otherwise); engine_bench_mimalloc, the same
// program, on mimalloc (what the garcon command links). The first line
// printed says which.
//
// Prints its figures; asserts nothing about time.
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/allocator.h"
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

// N closed executions: start, then terminate.
void Preload(Engine& engine, int n) {
  Json start{{"domain", kDomain},
             {"workflowType", {{"name", "wf"}, {"version", "1"}}},
             {"input", "preloaded"}};
  Json terminate{{"domain", kDomain}, {"reason", "preload"}};
  for (int i = 0; i < n; ++i) {
    const std::string workflow_id = "pre-" + std::to_string(i);
    start["workflowId"] = workflow_id;
    const Json started = Must(engine, "StartWorkflowExecution", start);
    terminate["workflowId"] = workflow_id;
    terminate["runId"] = started["runId"];
    Must(engine, "TerminateWorkflowExecution", terminate);
  }
}

constexpr int kCallsPerIteration = 8;
constexpr std::array<const char*, kCallsPerIteration> kMixNames = {
    "Start", "PollDec", "Schedule", "PollAct", "ActDone", "PollDec", "Complete", "Describe"};

// The median of `v` (the upper one of an even count); `v` not empty.
double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

struct MixResult {
  int iterations = 0;
  double seconds = 0;
  // The iterations run in 10 chunks; the median chunk's per-call cost is
  // the figure compared (robust to a loaded machine's pauses).
  std::vector<double> chunk_us_per_call;
  std::array<double, kCallsPerIteration> per_op_seconds{};
  double mean_us_per_call() const { return seconds / (iterations * kCallsPerIteration) * 1e6; }
  double us_per_call() const {
    return chunk_us_per_call.empty() ? mean_us_per_call() : Median(chunk_us_per_call);
  }
  double calls_per_second() const { return 1e6 / us_per_call(); }
  // Inside Engine::Call only: without building the requests (the driver's
  // work, not the engine's) and destroying the answers.
  double engine_us_per_call() const {
    double total = 0;
    for (double s : per_op_seconds) total += s;
    return total / (iterations * kCallsPerIteration) * 1e6;
  }
};

// One workflow through the whole mix; `times` gets each call's duration
// added (null: not timed).
void OneWorkflow(Engine& engine, const std::string& workflow_id,
                 std::array<double, kCallsPerIteration>* times) {
  int k = 0;
  auto timed = [&](const char* op, const Json& request) {
    const auto t0 = Clock::now();
    Json r = Must(engine, op, request);
    if (times) (*times)[static_cast<std::size_t>(k)] += Seconds(t0);
    ++k;
    return r;
  };
  const Json poll_decision{
      {"domain", kDomain}, {"taskList", {{"name", "decisions"}}}, {"identity", "decider"}};
  const Json poll_activity{
      {"domain", kDomain}, {"taskList", {{"name", "activities"}}}, {"identity", "worker"}};

  const Json started =
      timed("StartWorkflowExecution", {{"domain", kDomain},
                                       {"workflowId", workflow_id},
                                       {"workflowType", {{"name", "wf"}, {"version", "1"}}},
                                       {"input", "in"}});
  const Json d1 = timed("PollForDecisionTask", poll_decision);
  if (!d1.contains("taskToken")) Fail("no decision task", Result<Json>(d1));
  timed("RespondDecisionTaskCompleted", {{"taskToken", d1["taskToken"]},
                                         {"decisions",
                                          {{{"decisionType", "ScheduleActivityTask"},
                                            {"scheduleActivityTaskDecisionAttributes",
                                             {{"activityType", {{"name", "act"}, {"version", "1"}}},
                                              {"activityId", "a"},
                                              {"input", "x"}}}}}}});
  const Json a = timed("PollForActivityTask", poll_activity);
  if (!a.contains("taskToken")) Fail("no activity task", Result<Json>(a));
  timed("RespondActivityTaskCompleted", {{"taskToken", a["taskToken"]}, {"result", "y"}});
  const Json d2 = timed("PollForDecisionTask", poll_decision);
  if (!d2.contains("taskToken")) Fail("no second decision task", Result<Json>(d2));
  timed("RespondDecisionTaskCompleted",
        {{"taskToken", d2["taskToken"]},
         {"decisions",
          {{{"decisionType", "CompleteWorkflowExecution"},
            {"completeWorkflowExecutionDecisionAttributes", {{"result", "done"}}}}}}});
  const Json described =
      timed("DescribeWorkflowExecution",
            {{"domain", kDomain},
             {"execution", {{"workflowId", workflow_id}, {"runId", started["runId"]}}}});
  if (described["executionInfo"]["closeStatus"] != "COMPLETED") {
    Fail("the workflow did not complete", Result<Json>(described));
  }
}

MixResult RunMix(Engine& engine, const std::string& prefix, int iterations, int warmup) {
  for (int i = 0; i < warmup; ++i)
    OneWorkflow(engine, prefix + "warm-" + std::to_string(i), nullptr);
  constexpr int kChunks = 10;
  MixResult result;
  result.iterations = iterations;
  const auto t0 = Clock::now();
  for (int c = 0; c < kChunks; ++c) {
    const int begin = iterations * c / kChunks;
    const int end = iterations * (c + 1) / kChunks;
    const auto t_chunk = Clock::now();
    for (int i = begin; i < end; ++i) {
      OneWorkflow(engine, prefix + std::to_string(i), &result.per_op_seconds);
    }
    if (end > begin) {
      result.chunk_us_per_call.push_back(Seconds(t_chunk) / ((end - begin) * kCallsPerIteration) *
                                         1e6);
    }
  }
  result.seconds = Seconds(t0);
  return result;
}

struct Row {
  std::string config;
  int n = 0;
  std::size_t stored_before = 0;
  std::size_t stored_after = 0;
  double preload_seconds = 0;
  MixResult mix;
};

std::vector<Row> g_rows;

void Print(const Row& row) {
  std::printf("%-15s %8d %10zu %10.1f %6d %11.0f %9.1f %9.1f %9.1f\n", row.config.c_str(), row.n,
              row.stored_after, row.preload_seconds, row.mix.iterations, row.mix.calls_per_second(),
              row.mix.us_per_call(), row.mix.mean_us_per_call(), row.mix.engine_us_per_call());
  std::fflush(stdout);
  g_rows.push_back(row);
}

std::size_t Stored(Engine& engine) {
  const auto stats = engine.GetStats();
  return stats.open_executions + stats.closed_executions;
}

Row Measure(const std::string& config, int n, Engine& engine, double preload_seconds,
            int iterations) {
  // Warm-up, untimed: a tenth of the iterations (allocator, caches).
  Row row;
  row.config = config;
  row.n = n;
  row.preload_seconds = preload_seconds;
  row.stored_before = Stored(engine);
  row.mix = RunMix(engine, config + "-", iterations, std::max(10, iterations / 10));
  row.stored_after = Stored(engine);
  return row;
}

std::string TempDb(int n) {
  return (std::filesystem::temp_directory_path() /
          ("garcon-engine-bench-" + std::to_string(::getpid()) + "-" + std::to_string(n) + ".db"))
      .string();
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false;
  bool memory_only = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--quick") {
      quick = true;
    } else if (arg == "--memory-only") {
      memory_only = true;
    } else {
      std::fprintf(stderr, "usage: engine_bench [--quick] [--memory-only]\n");
      return 2;
    }
  }
  const std::vector<int> sizes =
      quick ? std::vector<int>{100, 1000, 10000} : std::vector<int>{100, 10000, 100000};
  const int iterations = quick ? 500 : 2000;
  // synchronous=FULL: ~7 fsyncs per iteration.
  const int full_iterations = quick ? 50 : 250;

  std::printf(
      "engine_bench: %d calls per iteration (Start, PollDecision, Respond schedule, "
      "PollActivity, RespondActivity, PollDecision, Respond complete, Describe)\n",
      kCallsPerIteration);
  std::printf("allocator: %s\n", garcon::AllocatorName().c_str());
  std::printf(
      "SQLite files are preloaded with synchronous=NORMAL, then reopened with "
      "synchronous=FULL for the FULL rows.\n");
  std::printf(
      "calls/s and us/call: the median of 10 chunks of the iterations; mean us: over "
      "all of them; engine us: the mean time inside Engine::Call (without the driver "
      "building requests).\n\n");
  std::printf("%-15s %8s %10s %10s %6s %11s %9s %9s %9s\n", "config", "N", "stored@end",
              "preload s", "iters", "calls/s", "us/call", "mean us", "engine us");

  const auto t_all = Clock::now();
  {
    // Untimed: the process's first engine pays for growing the heap (fresh
    // pages faulted in), which would be charged to the first row.
    auto engine = MakeEngine(nullptr);
    Register(*engine);
    (void)RunMix(*engine, "heap-", quick ? 1000 : 3000, 0);
  }
  std::map<int, std::pair<double, std::size_t>> reopen;  // n -> (seconds, file bytes)
  for (int n : sizes) {
    {
      auto engine = MakeEngine(nullptr);
      Register(*engine);
      const auto t0 = Clock::now();
      Preload(*engine, n);
      Print(Measure("memory-only", n, *engine, Seconds(t0), iterations));
    }
    if (memory_only) continue;
    {
      auto engine = MakeEngine(garcon::store::OpenMemoryStore());
      Register(*engine);
      const auto t0 = Clock::now();
      Preload(*engine, n);
      Print(Measure("memory store", n, *engine, Seconds(t0), iterations));
    }
    const std::string path = TempDb(n);
    RemoveDb(path);
    {
      auto engine = MakeEngine(OpenSqlite(path, /*full=*/false));
      Register(*engine);
      const auto t0 = Clock::now();
      Preload(*engine, n);
      Print(Measure("sqlite NORMAL", n, *engine, Seconds(t0), iterations));
    }
    {
      const auto t0 = Clock::now();
      auto engine = MakeEngine(OpenSqlite(path, /*full=*/true));
      std::size_t bytes = std::filesystem::file_size(path);
      std::error_code ec;
      const auto wal = std::filesystem::file_size(path + "-wal", ec);
      if (!ec) bytes += static_cast<std::size_t>(wal);
      reopen[n] = {Seconds(t0), bytes};
      Print(Measure("sqlite FULL", n, *engine, 0, full_iterations));
    }
    // The smallest and largest files are kept for the interleaved comparison.
    if (n != sizes.front() && n != sizes.back()) RemoveDb(path);
  }

  // Per-call cost at the largest N over the smallest.
  const int lo = sizes.front();
  const int hi = sizes.back();
  std::printf("\nper-call cost at N=%d / at N=%d (flat: near 1)\n", hi, lo);
  for (const char* config : {"memory-only", "memory store", "sqlite NORMAL", "sqlite FULL"}) {
    const Row* a = nullptr;
    const Row* b = nullptr;
    for (const Row& r : g_rows) {
      if (r.config != config) continue;
      if (r.n == lo) a = &r;
      if (r.n == hi) b = &r;
    }
    if (a && b) {
      std::printf("  %-15s %6.1f us -> %6.1f us   ratio %.2f\n", config, a->mix.us_per_call(),
                  b->mix.us_per_call(), b->mix.us_per_call() / a->mix.us_per_call());
    }
  }

  if (!memory_only) {
    // The rows above measure each N at its own moment, and a commit's fsync
    // can take twice as long from one minute to the next on a shared disk:
    // the smallest and the largest file, both open on SQLite FULL, take
    // turns, a tenth of the iterations each, and each side's figure is the
    // median of its turns.
    auto small = MakeEngine(OpenSqlite(TempDb(lo), /*full=*/true));
    auto large = MakeEngine(OpenSqlite(TempDb(hi), /*full=*/true));
    std::vector<double> small_us;
    std::vector<double> large_us;
    const int turn = std::max(10, full_iterations / 10);
    for (int round = 0; round < 10; ++round) {
      const std::string prefix = "turn-" + std::to_string(round) + "-";
      small_us.push_back(RunMix(*small, prefix, turn, 0).mean_us_per_call());
      large_us.push_back(RunMix(*large, prefix, turn, 0).mean_us_per_call());
    }
    const double a = Median(small_us);
    const double b = Median(large_us);
    std::printf(
        "  %-15s %6.1f us -> %6.1f us   ratio %.2f   (interleaved: the two files in turns)\n",
        "sqlite FULL", a, b, b / a);
    small.reset();
    large.reset();
    RemoveDb(TempDb(lo));
    RemoveDb(TempDb(hi));
  }

  std::printf("\nper-operation us (average over the iterations)\n%-15s %8s", "config", "N");
  for (const char* name : kMixNames) std::printf(" %9s", name);
  std::printf("\n");
  for (const Row& r : g_rows) {
    std::printf("%-15s %8d", r.config.c_str(), r.n);
    for (double s : r.mix.per_op_seconds) std::printf(" %9.1f", s / r.mix.iterations * 1e6);
    std::printf("\n");
  }

  std::printf(
      "\nSQLite reopen (loads open executions only: it should not grow with N):\n");
  for (const auto& [n, v] : reopen) {
    std::printf("  N=%-8d reopen %.2f s, file %.1f MB\n", n, v.first, v.second / 1e6);
  }
  std::printf("\ntotal %.0f s\n", Seconds(t_all));
  return 0;
}
