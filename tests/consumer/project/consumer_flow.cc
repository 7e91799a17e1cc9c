// A flow as a user writes one, outside Garcon's tree: a generator, retries,
// parameters filled from the context (Fill) and a constant (Static).
//   consumer_flow run --json   ends COMPLETED with every greeting.
#include <garcon/garcon.h>

#include <cstdio>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

// What an installed Garcon must not impose on its users.
#if __has_include("flow/actors.h") || __has_include("base/status_macros.h")
#error "Garcon's src/ is on the consumer's include path"
#endif
#if defined(RETURN_IF_ERROR) || defined(ASSIGN_OR_RETURN)
#error "a public header defines a macro without the GARCON_ prefix"
#endif
#if defined(BOOST_VERSION) || defined(SQLITE_VERSION)
#error "the public headers include Boost or SQLite"
#endif

using garcon::ActivityExecution;
using garcon::Context;

namespace {

// Fails the first attempt of id 2: the retry makes the flow complete.
Context Greet(ActivityExecution& activity, int id, const std::string& greeting) {
  static std::mutex mu;
  static std::map<std::string, int> attempts;
  int attempt = 0;
  {
    std::lock_guard lock(mu);
    attempt = ++attempts[activity.info().run_id + "/" + std::to_string(id)];
  }
  if (id == 2 && attempt == 1) throw std::runtime_error("id 2 fails its first attempt");
  return {{"greet." + std::to_string(id),
           greeting + " " + std::to_string(id) + " (attempt " + std::to_string(attempt) + ")"}};
}

garcon::Status CheckVersion() {
  if (garcon::Version() != GARCON_VERSION_STRING) {
    return garcon::InternalError("headers " GARCON_VERSION_STRING ", library " +
                                 std::string(garcon::Version()));
  }
  if (std::string(GARCON_VERSION_STRING) != GARCON_EXPECTED_VERSION) {
    return garcon::InternalError("version " GARCON_VERSION_STRING
                                 ", expected " GARCON_EXPECTED_VERSION);
  }
  return garcon::Status::Ok();
}

garcon::Status Check() {
  GARCON_RETURN_IF_ERROR(CheckVersion());
  return garcon::Status::Ok();
}

}  // namespace

int main(int argc, char** argv) {
  if (garcon::Status checked = Check(); !checked.ok()) {
    std::fprintf(stderr, "consumer_flow: %s\n", checked.ToString().c_str());
    return 3;
  }
  garcon::Flow flow("consumer", "consumer_flow");
  auto& prepare = flow.Activity("prepare").Run(garcon::Sync([](ActivityExecution&, const Context&) {
    return Context{{"prepare.ids", {1, 2, 3}}};
  }));
  auto& greet =
      flow.Activity("greet")
          .Requires({&prepare})
          // Called once prepare completed: one instance per id.
          .Generator([](const Context& context) {
            std::vector<Context> out;
            for (int id : context.value("prepare.ids", garcon::Json::array())) {
              out.push_back({{"generator.id", id}});
            }
            return out;
          })
          .Retry(2)
          .Run(garcon::Sync(garcon::Task(Greet).Fill("generator.id", garcon::Static("hello"))));
  // After every greeting (and prepare, which greet requires anyway).
  flow.Activity("summary")
      .Requires({&prepare, &greet})
      .Run(garcon::Sync([](ActivityExecution&, const Context& context) {
        int greetings = 0;
        for (const auto& [key, value] : context.items()) {
          if (key.rfind("greet.", 0) == 0) ++greetings;
        }
        return Context{{"summary.greetings", greetings}};
      }));
  return garcon::Main(flow, argc, argv);
}
