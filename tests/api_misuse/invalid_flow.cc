// A flow program with one declaration mistake, chosen by GARCON_MISUSE_CASE
// (duplicate | itself | cycle | fill | retry | max_concurrent | child_domain |
// max_workers | none): the mistake must come out of the program as an error
// (from its commands, or from the declaration itself when a setter refuses
// its value), never as an abort.
#include <garcon/garcon.h>

#include <cstdlib>
#include <string>

using garcon::ActivityExecution;
using garcon::Context;

int main(int argc, char** argv) {
  const char* chosen = std::getenv("GARCON_MISUSE_CASE");
  const std::string mistake = chosen ? chosen : "none";
  auto noop = [](ActivityExecution&, const Context&) { return Context{{"ran", true}}; };

  garcon::Flow flow("dev", "invalid_flow");
  auto& first = flow.Activity("first").Run(garcon::Sync(noop));
  auto& second = flow.Activity("second").Requires({&first}).Run(garcon::Sync(noop));
  auto& third = flow.Activity("third").Requires({&second});
  if (mistake == "duplicate") {
    flow.Activity("second");
  } else if (mistake == "itself") {
    third.Requires({&second, &third});
  } else if (mistake == "cycle") {
    first.Requires({&third});
  } else if (mistake == "retry") {
    third.Retry(-1);
  } else if (mistake == "max_concurrent") {
    third.MaxConcurrent(0);
  } else if (mistake == "child_domain") {
    static garcon::Flow elsewhere("other-domain", "elsewhere");
    elsewhere.Activity("only").Run(garcon::Sync(noop));
    third.Run(garcon::Child(elsewhere));
  } else if (mistake == "max_workers") {
    third.Run(garcon::Sync(noop).MaxWorkers(0));
  } else if (mistake == "fill") {
    third.Run(garcon::Sync(garcon::Task([](ActivityExecution&, int id) {
                             return Context{{"id", id}};
                           }).Fill("first.id", "second.id")));
  }
  if (third.runner().items().empty()) third.Run(garcon::Sync(noop));
  return garcon::Main(flow, argc, argv);
}
