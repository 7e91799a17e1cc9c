// How many tasks of one activity run at once: RunFlow's workers serve each
// activity with kDefaultPollers poll loops unless told otherwise, so that
// many instances of a generator run together, never more.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <vector>

#include "garcon/app.h"
#include "garcon/engine.h"
#include "garcon/flow.h"
#include "garcon/worker.h"

namespace garcon {
namespace {

using namespace std::chrono_literals;

TEST(PollLoopsTest, ByDefaultEightInstancesOfAGeneratorRunAtOnce) {
  ASSERT_EQ(kDefaultPollers, 8);
  ASSERT_EQ(RunOptions{}.pollers, kDefaultPollers);
  ASSERT_EQ(WorkerOptions{}.pollers, kDefaultPollers);

  std::mutex mu;
  std::condition_variable cv;
  int running = 0;
  int most = 0;
  Flow flow("pollers-domain", "pollers_flow");
  flow.Activity("each")
      .Generator([](const Context&) {
        std::vector<Context> out;
        for (int i = 0; i < 2 * kDefaultPollers; ++i) out.push_back({{"generator.i", i}});
        return out;
      })
      .Run(Sync([&](ActivityExecution&, const Context&) {
        std::unique_lock lock(mu);
        most = std::max(most, ++running);
        cv.notify_all();
        // Every task waits until the loops' worth run together (or a minute,
        // so that fewer loops fail the test instead of hanging it).
        cv.wait_for(lock, 60s, [&] { return most >= kDefaultPollers; });
        --running;
      }));

  engine::Engine engine;
  RunOptions options;  // the default poll loops
  options.release_polls = [&engine] { engine.Shutdown(); };
  Result<RunSummary> summary = RunFlow(flow, engine, options);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(summary->close_status, "COMPLETED");
  EXPECT_EQ(most, kDefaultPollers);  // that many together, never more
}

}  // namespace
}  // namespace garcon
