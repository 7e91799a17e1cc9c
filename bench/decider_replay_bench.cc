// What a decision of the flow decider costs, and how that grows with the
// run. Each flow runs once on the embedded engine (the test kit's FlowTest)
// to record its history; then the decisions of that history are made again
// three ways, in the same process, and timed:
//
//   full replay   the decider without its cache (cache_size 0, or a restart):
//                 every decision rebuilds the state from the whole history;
//   recompute     the previous approach: the state is kept and fed only the
//                 new events, but each decision computes every activity's
//                 instances, ids and progress again (today's code with the
//                 flow cache dropped before each decision);
//   incremental   the decider now: the state and what the flow derives from it
//                 are both updated from the new events only.
//
// The three must decide the same (checked at every decision the slower two
// make: they are timed on a sample spread over the run). The figures are
// microseconds of decider computation per decision (applying the new events
// and deciding), without the engine's calls: the mean, and for the
// incremental decider also the median and the largest (the first decision of
// a fan-out, which schedules up to 1,000 instances, or the last, which sends
// the whole context). The target for the incremental decider is a mean of at
// most 50 us per decision at 1,000 activities and at 20,000 events (3,300
// activities in series: about 19,800). Then the serial flows of 50 and 1,000
// run end to end with the decider's cache on and off (engine and worker
// included), as a check on the whole.
//
// `decider_replay_bench --incremental-only` times the incremental decider
// alone, over each history 200 times, so that a profiler sees mostly it
// (`perf record ... decider_replay_bench --incremental-only`).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "garcon/garcon.h"
#include "garcon/testing.h"

namespace {

using garcon::ActivityExecution;
using garcon::Context;
using garcon::Json;
using Clock = std::chrono::steady_clock;

constexpr double kTargetUs = 50;
bool incremental_only = false;

double Us(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

// N activities in series, each requiring the previous one.
void SerialFlow(garcon::Flow& flow, int activities) {
  const garcon::Activity* previous = nullptr;
  for (int i = 0; i < activities; ++i) {
    auto& a = flow.Activity("a" + std::to_string(i))
                  .Run(garcon::Sync(garcon::Task([i](ActivityExecution&) -> Context {
                    // Reads nothing from the context: its input stays small.
                    return {{"step." + std::to_string(i), i}};
                  })));
    if (previous) a.Requires({previous});
    previous = &a;
  }
}

// A start, a generator of `count` instances (at most `window` open when
// non-zero), and an end requiring every instance. Each instance returns a key
// of its own when `results` (past a few thousand, the run's result would pass
// SWF's 32,768 characters), else an empty object.
void FanOutFlow(garcon::Flow& flow, int count, int window, bool results) {
  auto& first = flow.Activity("start").Run(garcon::Sync(
      garcon::Task([](ActivityExecution&) -> Context { return {{"started", true}}; })));
  auto& items = flow.Activity("item")
                    .Requires({&first})
                    .Generator([count](const Context&) {
                      std::vector<Context> out;
                      out.reserve(static_cast<std::size_t>(count));
                      for (int i = 0; i < count; ++i) out.push_back({{"generator.item", i}});
                      return out;
                    })
                    .Retry(2)
                    .Run(garcon::Sync(
                        garcon::Task([results](ActivityExecution&, int item) -> Context {
                          if (!results) return Context::object();
                          return {{"item." + std::to_string(item), "done"}};
                        }).Fill("generator.item")));
  if (window > 0) items.MaxConcurrent(window);
  flow.Activity("end").Requires({&items}).Run(garcon::Sync(
      garcon::Task([](ActivityExecution&) -> Context { return {{"end", true}}; })));
}

struct Figures {
  std::size_t events = 0;
  int decisions = 0;
  double full_replay_us = 0;  // mean over the sampled decisions
  double recompute_us = 0;
  double incremental_us = 0;  // mean over every decision
  double incremental_median_us = 0;
  double incremental_max_us = 0;  // the first decision of a fan-out, the last of a big context
};

// Makes every decision of `history` again, the three ways.
Figures Measure(const garcon::Flow& flow, const std::vector<Json>& history,
                const garcon::ExecutionRef& run) {
  Figures f;
  f.events = history.size();
  std::vector<std::size_t> points;  // index of each DecisionTaskStarted
  for (std::size_t i = 0; i < history.size(); ++i) {
    if (history[i].value("eventType", "") == "DecisionTaskStarted") points.push_back(i);
  }
  f.decisions = static_cast<int>(points.size());
  // The slower ways are timed on a sample of the decisions, spread over the run.
  const std::size_t replay_every = std::max<std::size_t>(1, points.size() / 40);
  const std::size_t recompute_every = std::max<std::size_t>(1, points.size() / 200);
  // Each way in a pass of its own, so that none pays for the memory the
  // others leave behind.
  std::map<std::size_t, std::vector<Json>> sampled;  // by point: what the incremental decided
  double incremental_total = 0;
  std::vector<double> times;
  {
    garcon::HistoryState incremental;
    std::size_t applied = 0;
    for (std::size_t k = 0; k < points.size(); ++k) {
      const std::size_t upto = points[k] + 1;
      const auto t0 = Clock::now();
      for (; applied < upto; ++applied) incremental.Apply(history[applied]);
      std::vector<Json> decided = garcon::Decide(flow, incremental, run);
      const double us = Us(Clock::now() - t0);
      incremental_total += us;
      times.push_back(us);
      f.incremental_max_us = std::max(f.incremental_max_us, us);
      if (k % recompute_every == 0 || k % replay_every == 0 || k + 1 == points.size()) {
        sampled.emplace(k, std::move(decided));
      }
    }
  }
  double recompute_total = 0;
  double replay_total = 0;
  int recompute_samples = 0;
  int replay_samples = 0;
  if (!incremental_only) {
    garcon::HistoryState recompute;
    std::size_t applied = 0;
    for (std::size_t k = 0; k < points.size(); ++k) {
      const std::size_t upto = points[k] + 1;
      for (; applied < upto; ++applied) recompute.Apply(history[applied]);
      if (k % recompute_every != 0 && k + 1 != points.size()) continue;
      const auto t1 = Clock::now();
      recompute.set_flow_cache(nullptr);  // derived again from the whole state
      const std::vector<Json> again = garcon::Decide(flow, recompute, run);
      recompute_total += Us(Clock::now() - t1);
      ++recompute_samples;
      if (again != sampled.at(k)) {
        std::fprintf(stderr, "recompute decides otherwise at event %zu\n", upto);
        std::abort();
      }
    }
    for (std::size_t k = 0; k < points.size(); ++k) {
      if (k % replay_every != 0 && k + 1 != points.size()) continue;
      const std::size_t upto = points[k] + 1;
      const auto t2 = Clock::now();
      garcon::HistoryState fresh;
      for (std::size_t i = 0; i < upto; ++i) fresh.Apply(history[i]);
      const std::vector<Json> replayed = garcon::Decide(flow, fresh, run);
      replay_total += Us(Clock::now() - t2);
      ++replay_samples;
      if (replayed != sampled.at(k)) {
        std::fprintf(stderr, "full replay decides otherwise at event %zu\n", upto);
        std::abort();
      }
    }
  }
  f.incremental_us = incremental_total / static_cast<double>(points.size());
  std::sort(times.begin(), times.end());
  f.incremental_median_us = times.empty() ? 0 : times[times.size() / 2];
  f.recompute_us = recompute_samples > 0 ? recompute_total / recompute_samples : 0;
  f.full_replay_us = replay_samples > 0 ? replay_total / replay_samples : 0;
  return f;
}

void Row(const char* name, const garcon::Flow& flow, const Context& input) {
  garcon::testing::FlowTest test(flow);
  const auto t0 = Clock::now();
  const garcon::testing::RunResult run = test.Run(input);
  const double run_s = std::chrono::duration<double>(Clock::now() - t0).count();
  if (run.close_status != "COMPLETED") {
    std::fprintf(stderr, "%s: the run closed %s: %s\n", name, run.close_status.c_str(),
                 run.reason.c_str());
    std::abort();
  }
  Figures f;
  for (int i = 0; i < (incremental_only ? 200 : 1); ++i) {
    f = Measure(flow, run.history, {flow.domain(), run.workflow_id, run.run_id});
  }
  std::printf("%-34s %6zu %6d %12.1f %10.1f %12.1f %7.1f %8.0f %7.0f  %s  (run %.2f s)\n", name,
              f.events, f.decisions, f.full_replay_us, f.recompute_us, f.incremental_us,
              f.incremental_median_us, f.incremental_max_us, kTargetUs,
              f.incremental_us <= kTargetUs ? "ok" : "OVER", run_s);
  std::fflush(stdout);
}

// The serial flow end to end on the engine, decider and worker in one thread.
double RunSerialEndToEnd(int activities, std::size_t cache_size, int* decisions) {
  garcon::Flow flow("bench", "serial_e2e_" + std::to_string(activities));
  SerialFlow(flow, activities);
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
  const auto t0 = Clock::now();
  *decisions = 0;
  for (const auto& activity : flow.activities()) {
    if (!decider.PollOnce().ok()) std::abort();
    ++*decisions;
    if (!worker.PollOnce(*activity).ok()) std::abort();
  }
  if (!decider.PollOnce().ok()) std::abort();  // completes the workflow
  ++*decisions;
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::warn);
  incremental_only = argc > 1 && std::string(argv[1]) == "--incremental-only";
  std::printf("Decider computation per decision (us), the same decisions made three ways\n");
  std::printf("%-34s %6s %6s %12s %10s %12s %7s %8s %7s\n", "flow", "events", "tasks",
              "full replay", "recompute", "incremental", "median", "max", "target");
  {
    garcon::Flow flow("bench", "serial_50");
    SerialFlow(flow, 50);
    Row("50 activities in series", flow, Context::object());
  }
  {
    garcon::Flow flow("bench", "serial_1000");
    SerialFlow(flow, 1000);
    Row("1,000 activities in series", flow, Context::object());
  }
  {
    garcon::Flow flow("bench", "fanout_1000");
    FanOutFlow(flow, 1000, 0, true);
    Row("fan-out of 1,000 instances", flow, Context::object());
  }
  {
    // The largest fan-out one run holds: past kInstancesPerSlice instances
    // run in slices, child runs with histories of their own (a fan-out of
    // 3,300 leaves the parent 36 events), so the 20,000-event figure comes
    // from the serial flow below.
    garcon::Flow flow("bench", "fanout_2000");
    FanOutFlow(flow, static_cast<int>(garcon::kInstancesPerSlice), 100, false);
    Row("fan-out 2,000, MaxConcurrent 100", flow, Context::object());
  }
  {
    garcon::Flow flow("bench", "serial_3300");
    SerialFlow(flow, 3300);
    Row("3,300 activities in series", flow, Context::object());
  }
  if (incremental_only) return 0;
  std::printf("\nEnd to end (engine, decider and worker in one thread), us per decision\n");
  std::printf("%-12s %16s %16s %9s\n", "activities", "cache off", "cache on", "speed-up");
  for (int n : {50, 1000}) {
    int decisions = 0;
    const double off = RunSerialEndToEnd(n, 0, &decisions) / decisions * 1e6;
    const double on = RunSerialEndToEnd(n, 1000, &decisions) / decisions * 1e6;
    std::printf("%-12d %16.1f %16.1f %8.1fx\n", n, off, on, off / on);
  }
  return 0;
}
