// One flow in two versions, built twice (GARCON_TEST_VERSION 1 and 2) for
// the distributed version test: both versions share `prepare`; version 1
// then runs `only_v1`, version 2 runs `only_v2`. Each result says which
// version and which process ran it, so the test can tell whether a task of
// one version was ever taken by the other's decider or workers.
#include <unistd.h>

#include <string>

#include "garcon/garcon.h"

using garcon::ActivityExecution;
using garcon::Context;

namespace {

constexpr int kVersion = GARCON_TEST_VERSION;

garcon::Task Step(std::string name) {
  return garcon::Task([name](ActivityExecution&, const Context&) -> Context {
    return {{name + ".version", kVersion}, {name + ".pid", static_cast<int>(getpid())}};
  });
}

}  // namespace

int main(int argc, char** argv) {
  garcon::Flow flow("dev", "versioned_flow", std::to_string(kVersion) + ".0");
  auto& prepare = flow.Activity("prepare").Run(garcon::Sync(Step("prepare")));
  const std::string last = kVersion == 1 ? "only_v1" : "only_v2";
  flow.Activity(last).Requires({&prepare}).Run(garcon::Sync(Step(last)));
  return garcon::Main(flow, argc, argv);
}
