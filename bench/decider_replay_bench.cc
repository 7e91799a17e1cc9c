// How the cost of a decision grows with the history. A flow of N activities
// in series runs on the embedded engine, decider and worker driven in one
// thread; the incremental decider (a per-run cache fed by newest-first
// history pages) is compared with the baseline in the same run: the full
// replay the original Garcon does at every decision (cache disabled).
//
// Prints, for each N, the seconds per whole run and per decision.
#include <chrono>
#include <cstdio>
#include <string>

#include <spdlog/spdlog.h>

#include "garcon/garcon.h"

namespace {

using garcon::ActivityExecution;
using garcon::Context;

double RunSerialFlow(int activities, std::size_t cache_size, int* decisions) {
  garcon::Flow flow("bench", "serial_" + std::to_string(activities));
  const garcon::Activity* previous = nullptr;
  for (int i = 0; i < activities; ++i) {
    auto& a = flow.Activity("a" + std::to_string(i))
                  .Run(garcon::Sync(garcon::Task([i](ActivityExecution&) -> Context {
                    // Reads nothing from the context: its input stays small,
                    // so the figures are the decider's and the engine's.
                    return {{"step." + std::to_string(i), i}};
                  })));
    if (previous) a.Requires({previous});
    previous = &a;
  }
  garcon::engine::Engine engine;
  if (!garcon::Register(flow, engine).ok()) std::abort();
  auto start = engine.Call("StartWorkflowExecution",
                           {{"domain", "bench"},
                            {"workflowId", "w"},
                            {"workflowType", {{"name", flow.name()}, {"version", "1.0"}}},
                            {"taskList", {{"name", flow.task_list()}}},
                            {"executionStartToCloseTimeout", "3600"},
                            {"taskStartToCloseTimeout", "60"},
                            {"childPolicy", "TERMINATE"}});
  if (!start.ok()) std::abort();
  garcon::DeciderOptions options;
  options.cache_size = cache_size;
  garcon::Decider decider(flow, engine, options);
  garcon::ActivityWorker worker(flow, engine);
  const auto t0 = std::chrono::steady_clock::now();
  *decisions = 0;
  for (const auto& activity : flow.activities()) {
    if (!decider.PollOnce().ok()) std::abort();
    ++*decisions;
    if (!worker.PollOnce(*activity).ok()) std::abort();
  }
  if (!decider.PollOnce().ok()) std::abort();  // completes the workflow
  ++*decisions;
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main() {
  spdlog::set_level(spdlog::level::warn);
  std::printf("%-12s %-14s %12s %16s\n", "activities", "decider", "run (s)", "per decision (us)");
  for (int n : {50, 200, 800}) {
    double incremental = 0;
    double replay = 0;
    int decisions = 0;
    incremental = RunSerialFlow(n, 1000, &decisions);
    std::printf("%-12d %-14s %12.4f %16.1f\n", n, "incremental", incremental,
                incremental / decisions * 1e6);
    replay = RunSerialFlow(n, 0, &decisions);
    std::printf("%-12d %-14s %12.4f %16.1f\n", n, "full replay", replay,
                replay / decisions * 1e6);
    std::printf("%-12d %-14s %11.1fx\n", n, "speed-up", replay / incremental);
  }
  return 0;
}
