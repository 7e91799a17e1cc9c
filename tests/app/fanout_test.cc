// Fan-outs past what one run holds (docs/design.md, "Fan-outs"): a generator
// of 10,000 instances completes, in slices that are child runs of the same
// flow, with every instance's result reaching the next activity; failures
// are counted over the whole fan-out. On the test kit (fake clock, faked
// failures), and with RunFlow and its real workers on the memory engine and
// on a real SQLite file. Each prints its time and the process's peak memory.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "garcon/app.h"
#include "garcon/engine.h"
#include "garcon/flow.h"
#include "garcon/store.h"
#include "garcon/testing.h"

namespace garcon {
namespace {

// 10,000 in the suite; a ThreadSanitizer build (some 40 times slower) runs
// 4,500, still three slices, within the tests' time limit.
#ifdef GARCON_FANOUT_INSTANCES
constexpr int kInstances = GARCON_FANOUT_INSTANCES;
#else
constexpr int kInstances = 10000;
#endif
constexpr int kSlices = (kInstances + 1999) / 2000;

// each: one instance per item, its result `done.{i}`; count: how many
// results and failures it sees.
void BuildFlow(Flow& flow) {
  auto& each = flow.Activity("each")
                   .Generator([](const Context& context) {
                     std::vector<Context> out;
                     const int items = context.value("items", 0);
                     for (int i = 0; i < items; ++i) out.push_back({{"generator.i", i}});
                     return out;
                   })
                   .Retry(2)
                   .AllowFailures(3)
                   .Run(Sync(Task(
                       [](ActivityExecution&, int i, const std::string& workflow_id) {
                         // An instance names the run the user started, not its slice's.
                         if (workflow_id.find("-slice-") != std::string::npos) {
                           throw std::runtime_error("the slice's workflow id: " + workflow_id);
                         }
                         return Context{{"done." + std::to_string(i), i}};
                       },
                       "generator.i", "execution.workflow_id")));
  flow.Activity("count").Requires({&each}).Run(
      Sync([](ActivityExecution&, const Context& context) {
        int done = 0;
        for (const auto& item : context.items()) done += item.key().starts_with("done.") ? 1 : 0;
        const Json failed = context.value("each.failed", Json::array());
        return Context{{"results_seen", done},
                       {"failures_seen", failed.size()},
                       {"slice_key_seen", context.contains(kSliceFailedKey)}};
      }));
}

long PeakRssMb() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024;
}

int Count(const std::vector<Json>& history, const std::string& type) {
  int n = 0;
  for (const Json& e : history) n += e.value("eventType", "") == type ? 1 : 0;
  return n;
}

TEST(BigFanOutTest, TenThousandInstancesOnTheTestKitWithFailuresCountedOverTheFanOut) {
  Flow flow("fanout-domain", "big_fanout");
  BuildFlow(flow);
  testing::FlowTest test(flow);
  // Item 77 fails every attempt (given up, within AllowFailures(3)); item
  // 4,321 fails its first attempt only (retried, in its slice's run).
  test.Fake("each", [](const Context& input, int attempt) -> Context {
    const int i = input.value("generator.i", -1);
    if (input.value("execution.workflow_id", "") != "flow-test-1") {
      throw NonRetryable("the wrong workflow id: " + input.value("execution.workflow_id", ""));
    }
    if (i == 77 || (i == 4321 && attempt == 1)) throw std::runtime_error("item down");
    return {{"done." + std::to_string(i), i}};
  });
  const auto start = std::chrono::steady_clock::now();
  const auto run = test.Run({{"items", kInstances}});
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("test kit: %d instances in %.2f s, peak RSS %ld MB\n", kInstances, seconds,
              PeakRssMb());
  ASSERT_EQ(run.close_status, "COMPLETED") << run.reason;
  EXPECT_EQ(run.result.value("results_seen", 0), kInstances - 1);
  EXPECT_EQ(run.result.value("failures_seen", 0), 1);
  EXPECT_FALSE(run.result.value("slice_key_seen", true));
  ASSERT_EQ(run.result.at("each.failed").size(), 1u);
  EXPECT_EQ(run.result.at("each.failed")[0].at("values"), (Json{{"generator.i", 77}}));
  EXPECT_EQ(run.result.at("each.failed")[0].at("attempts"), 3);
  // The parent's history: a few slices, not thousands of activity tasks.
  EXPECT_EQ(Count(run.history, "StartChildWorkflowExecutionInitiated"), kSlices);
  EXPECT_EQ(Count(run.history, "ChildWorkflowExecutionCompleted"), kSlices);
  EXPECT_LT(run.history.size(), 100u);
}

TEST(BigFanOutTest, PastTheAllowanceTheRunFailsNamingAnInstanceGivenUp) {
  Flow flow("fanout-domain", "big_fanout");
  BuildFlow(flow);
  testing::FlowTest test(flow);
  // Four items given up, spread over the slices: one more than allowed.
  test.Fake("each", [](const Context& input, int) -> Context {
    const int i = input.value("generator.i", -1);
    if (i % (kInstances / 4) == 9) throw std::runtime_error("item " + std::to_string(i) + " down");
    return {{"done." + std::to_string(i), i}};
  });
  const auto run = test.Run({{"items", kInstances}});
  ASSERT_EQ(run.close_status, "FAILED");
  EXPECT_THAT(run.reason,
              ::testing::MatchesRegex("each \\(generator.i=[0-9]+\\) attempt 3 of 3: item [0-9]+ down "
                                      "\\(4 of " +
                                      std::to_string(kInstances) +
                                      " instances failed; 3 allowed\\)"));
}

// RunFlow with its decider and real worker threads, on `engine`.
void RunTenThousand(engine::Engine& engine, const char* label) {
  Flow flow("fanout-domain", "big_fanout");
  BuildFlow(flow);
  RunOptions options;
  options.input = {{"items", kInstances}};
  options.release_polls = [&engine] { engine.Shutdown(); };
  Result<RunSummary> summary = RunFlow(flow, engine, options);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  std::printf("%s: %d instances in %.2f s, %zu events in the parent's history, peak RSS %ld MB\n",
              label, kInstances, summary->seconds, summary->history_events, PeakRssMb());
  ASSERT_EQ(summary->close_status, "COMPLETED") << summary->reason;
  EXPECT_EQ(summary->result.value("results_seen", 0), kInstances);
  EXPECT_EQ(summary->result.value("failures_seen", -1), 0);
  EXPECT_EQ(summary->result.value("done." + std::to_string(kInstances - 1), 0), kInstances - 1);
}

TEST(BigFanOutTest, TenThousandInstancesWithRunFlowInMemory) {
  engine::Engine engine{engine::EngineOptions{}};
  RunTenThousand(engine, "memory");
}

TEST(BigFanOutTest, TenThousandInstancesWithRunFlowOnASqliteFile) {
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("garcon-fanout-" + std::to_string(::getpid()) + ".db"))
                               .string();
  std::filesystem::remove(path);
  {
    auto store = store::OpenSqliteStore(path);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    engine::EngineOptions options;
    options.store = *store;
    engine::Engine engine(options);
    RunTenThousand(engine, "SQLite");
  }
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
}

}  // namespace
}  // namespace garcon
