// garcon::Main, the command line of every flow program, on what it refuses up
// front.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "garcon/app.h"
#include "garcon/flow.h"

namespace garcon {
namespace {

int RunMain(const Flow& flow, std::vector<std::string> args) {
  args.insert(args.begin(), "flow_program");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return Main(flow, static_cast<int>(argv.size()), argv.data());
}

TEST(MainTest, RunRefusesAFlowWithExternalActivitiesUnlessTheirWorkerIsExpected) {
  Flow flow("main-domain", "main_flow");
  auto& local = flow.Activity("local").Run(Sync([](ActivityExecution&, const Context&) {}));
  flow.Activity("elsewhere").Requires({&local}).External(60);
  testing::internal::CaptureStderr();
  EXPECT_EQ(RunMain(flow, {"run"}), 2);
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("activity elsewhere is External"), std::string::npos) << err;
  EXPECT_NE(err.find("main_flow_elsewhere@1.0"), std::string::npos) << err;
  EXPECT_NE(err.find("--expect-external"), std::string::npos) << err;

  // With the flag, the check passes: this run then fails to reach its
  // (unreachable) engine instead, with exit code 1.
  testing::internal::CaptureStderr();
  EXPECT_EQ(RunMain(flow, {"run", "--expect-external", "--endpoint", "http://127.0.0.1:1"}), 1);
  testing::internal::GetCapturedStderr();
}

TEST(MainTest, ASignalWithoutANameIsRefused) {
  Flow flow("main-domain", "main_flow");
  flow.Activity("a").Run(Sync([](ActivityExecution&, const Context&) {}));
  testing::internal::CaptureStderr();
  EXPECT_EQ(RunMain(flow, {"run", "--signal", "=x"}), 2);
  EXPECT_NE(testing::internal::GetCapturedStderr().find("the name is empty"), std::string::npos);
}

}  // namespace
}  // namespace garcon
