// The request path of every SWF operation, as `garcon server` runs it after
// the HTTP layer: ParseRequestBody, Engine::Call, ResponseBody.
//
// Input: byte 0 picks the operation (byte % 39, in the model's sorted order)
// and how far the fake clock moves before the call (byte / 39: 0, 0, 0, 1 s,
// 31 s, 301 s, 4000 s), so that timeouts fire. The rest is the JSON body.
// String values "@decision" and "@activity" are replaced by live task tokens
// (of fresh runs), "@run" / "@wid" by the runId / workflowId of such a run
// (else of workflow "w", started at setup). Any answer or fault is fine.
//
// One engine serves kInputsPerEngine inputs, then is replaced, so its state
// stays small (also when earlier inputs left it unable to start runs); a
// crash is replayed on a fresh engine.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <spdlog/spdlog.h>

#include "fuzz_common.h"
#include "protocol/model.h"
#include "server/wire.h"

namespace {

using garcon::Json;
namespace fz = garcon::fuzz;

constexpr int kInputsPerEngine = 500;
constexpr int kAdvanceSeconds[] = {0, 0, 0, 1, 31, 301, 4000};

struct World {
  std::shared_ptr<garcon::FakeClock> clock = std::make_shared<garcon::FakeClock>();
  std::unique_ptr<garcon::engine::Engine> engine;
  std::string run_id;  // of workflow "w"
  int counter = 0;
  int inputs = 0;

  World() {
    garcon::engine::EngineOptions options;
    options.clock = clock;
    options.timer_thread = false;
    options.poll_timeout = garcon::Duration::zero();  // polls answer at once
    engine = std::make_unique<garcon::engine::Engine>(std::move(options));
    fz::RegisterBasics(*engine);
    run_id = fz::StartWorkflow(*engine, "w");
  }
};

struct Substitutes {
  bool want_decision = false, want_activity = false, want_run = false;
  std::string decision, activity, run_id, workflow_id;
};

void Scan(const Json& j, Substitutes& s) {
  if (j.is_string()) {
    const auto& v = j.get_ref<const std::string&>();
    if (v == "@decision") s.want_decision = true;
    if (v == "@activity") s.want_activity = true;
    if (v == "@run" || v == "@wid") s.want_run = true;
  } else if (j.is_structured()) {
    for (const auto& e : j) Scan(e, s);
  }
}

void Replace(Json& j, const Substitutes& s) {
  if (j.is_string()) {
    const auto& v = j.get_ref<const std::string&>();
    if (v == "@decision") j = s.decision;
    else if (v == "@activity") j = s.activity;
    else if (v == "@run") j = s.run_id;
    else if (v == "@wid") j = s.workflow_id;
  } else if (j.is_structured()) {
    for (auto& e : j) Replace(e, s);
  }
}

// A fresh run's decision task; fills run_id/workflow_id. "" when none.
std::string FreshDecisionToken(World& w, Substitutes& s) {
  const std::string id = "f" + std::to_string(++w.counter);
  fz::StartWorkflow(*w.engine, id);
  Json task = fz::PollDecision(*w.engine);
  if (task.is_null()) return "";
  s.workflow_id = task["workflowExecution"].value("workflowId", "");
  s.run_id = task["workflowExecution"].value("runId", "");
  return task.value("taskToken", "");
}

void Fill(World& w, Substitutes& s) {
  s.run_id = w.run_id;
  s.workflow_id = "w";
  if (s.want_activity) {
    const std::string token = FreshDecisionToken(w, s);
    if (!token.empty()) {
      fz::CallOrNull(*w.engine, "RespondDecisionTaskCompleted",
                     {{"taskToken", token},
                      {"decisions", {fz::ScheduleActivityDecision("a" + std::to_string(w.counter)),
                                     fz::StartTimerDecision("t", "60")}}});
      Json task = fz::PollActivity(*w.engine);
      if (task.is_object()) s.activity = task.value("taskToken", "");
    }
  }
  if (s.want_decision) s.decision = FreshDecisionToken(w, s);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::err);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::vector<std::string> operations =
      garcon::protocol::Model::Get().OperationNames();
  static std::unique_ptr<World> world;
  if (size < 1) return 0;
  if (!world || world->inputs >= kInputsPerEngine) {
    world.reset();
    world = std::make_unique<World>();
  }
  world->inputs++;

  const std::string& operation = operations[data[0] % operations.size()];
  const int advance = kAdvanceSeconds[(data[0] / operations.size()) % std::size(kAdvanceSeconds)];
  const std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);

  garcon::Result<Json> request = garcon::server::ParseRequestBody(body);
  if (!request.ok()) return 0;
  Substitutes subs;
  Scan(*request, subs);
  if (subs.want_decision || subs.want_activity || subs.want_run) {
    Fill(*world, subs);
    if ((subs.want_decision && subs.decision.empty()) ||
        (subs.want_activity && subs.activity.empty())) {
      // Earlier inputs broke this engine for new runs (a deprecated domain
      // or type, ...): take a fresh one.
      world = std::make_unique<World>();
      Fill(*world, subs);
    }
    Replace(*request, subs);
  }
  World& w = *world;
  if (advance > 0) w.clock->AdvanceSeconds(advance);

  garcon::Result<Json> response = w.engine->Call(operation, *request);
  static const bool verbose = std::getenv("GARCON_FUZZ_VERBOSE") != nullptr;
  if (verbose) {
    std::fprintf(stderr, "%s +%ds: %s\n", operation.c_str(), advance,
                 response.ok() ? garcon::server::ResponseBody(*response).substr(0, 200).c_str()
                               : response.status().ToString().substr(0, 200).c_str());
  }
  if (response.ok()) {
    (void)garcon::server::ResponseBody(*response);
  } else {
    (void)garcon::server::FaultBody(response.status());
  }
  return 0;
}
