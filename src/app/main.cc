#include <pthread.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <iostream>
#include <stdexcept>
#include <stop_token>
#include <thread>

#include "app/remote.h"
#include "payload/payload_service.h"
#include "garcon/app.h"
#include "garcon/decider.h"
#include "garcon/engine.h"
#include "garcon/store.h"
#include "garcon/worker.h"

namespace garcon {
namespace {

// A flow's declaration runs in the program's main() before garcon::Main: a
// setter given a value it refuses (Retry(-1), MaxConcurrent(0), a child flow
// of another domain...) throws garcon::DeclarationError there, which nothing
// of the program catches. Rather than "terminate called after throwing" and
// an abort, such a program says what is wrong and exits 1, like the mistakes
// found when the flow is validated (a cycle, a name declared twice). Only
// that exception, and only before Main starts: any other goes to the
// handler that was in place (an abort, a core dump).
std::atomic<bool> main_started{false};
std::terminate_handler previous_terminate = nullptr;

[[noreturn]] void OnTerminate() {
  if (!main_started.load()) {
    if (std::exception_ptr current = std::current_exception()) {
      try {
        std::rethrow_exception(current);
      } catch (const DeclarationError& error) {
        std::fflush(nullptr);
        std::fprintf(stderr, "error: the flow's declaration: %s\n", error.what());
        std::fflush(stderr);
        std::_Exit(1);
      } catch (...) {
      }
    }
  }
  if (previous_terminate != nullptr) previous_terminate();
  std::abort();
}

// Installed when the program starts (this file holds garcon::Main, so every
// flow program links it).
const bool terminate_installed = [] {
  previous_terminate = std::set_terminate(OnTerminate);
  return true;
}();

void SetUpLogging(bool verbose) {
  auto logger = spdlog::get("garcon");  // Main may run more than once in a process (tests)
  if (!logger) logger = spdlog::stderr_color_mt("garcon");
  logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %n %^%l%$ %v");
  spdlog::set_default_logger(logger);
  spdlog::set_level(verbose ? spdlog::level::info : spdlog::level::warn);
}

struct Args {
  std::string input;
  std::string workflow_id;
  bool json = false;
  bool wait = false;
  std::string db;
  app::RemoteOptions remote;
  std::vector<std::string> activities;
  int pollers = kDefaultPollers;
  std::string signal_workflow_id;
  std::string signal_name;
  std::string run_id;
  std::vector<std::string> signals;  // run --signal NAME[=INPUT]
  bool expect_external = false;
};

// `run` serves every activity but the External ones: without a worker of
// theirs, the run would wait silently for their schedule-to-start timeout.
Status CheckExternal(const Flow& flow, const Args& args) {
  if (args.expect_external) return Status::Ok();
  std::vector<const Flow*> flows{&flow};
  for (const Flow* child : flow.ChildFlows()) flows.push_back(child);
  for (const Flow* f : flows) {
    for (const auto& activity : f->activities()) {
      if (activity->external()) {
        return ValidationError("activity " + activity->short_name() +
                               " is External: a worker outside this program runs it (polling " +
                               activity->task_list() +
                               "); start that worker, then pass --expect-external");
      }
    }
  }
  return Status::Ok();
}

void PrintSummary(const RunSummary& s, bool json) {
  if (json) {
    std::cout << s.ToJson().dump() << std::endl;
    return;
  }
  std::cout << s.workflow_id << " (run " << s.run_id << ") " << s.close_status << " in "
            << fmt::format("{:.2f}", s.seconds) << " s, " << s.history_events
            << " history events\n";
  if (s.close_status == "COMPLETED") {
    std::cout << "result: " << s.result.dump(2) << "\n";
  } else if (!s.reason.empty()) {
    std::cout << "reason: " << s.reason << "\n";
    if (!s.details.empty()) std::cout << "details: " << s.details << "\n";
  }
}

int Fail(const Status& status) {
  std::cerr << "error: " << status.ToString() << "\n";
  return 1;
}

// Prints how the execution ended; exit code 0 only if it completed.
int Report(const Result<RunSummary>& summary, bool json) {
  if (!summary.ok()) return Fail(summary.status());
  PrintSummary(*summary, json);
  return summary->close_status == "COMPLETED" ? 0 : 1;
}

Result<RunOptions> MakeRunOptions(const Args& args) {
  RunOptions options;
  options.workflow_id = args.workflow_id;
  options.pollers = args.pollers;
  options.progress = !args.json && isatty(STDERR_FILENO);
  for (const std::string& signal : args.signals) {
    const auto equals = signal.find('=');
    if (equals == 0) return ValidationError("--signal NAME[=INPUT]: the name is empty");
    options.signals.emplace_back(signal.substr(0, equals),
                                 equals == std::string::npos ? "" : signal.substr(equals + 1));
  }
  if (!args.input.empty()) {
    options.input = Json::parse(args.input, nullptr, false);
    if (!options.input.is_object()) return ValidationError("--input must be a JSON object");
  }
  return options;
}

// Runs `body` with SIGINT/SIGTERM turned into `on_signal` (called once, on
// a thread of its own), and returns body's result.
template <typename Body>
int WithSignals(std::function<void()> on_signal, Body&& body) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGUSR1);  // ends the watcher when body returns
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::thread watcher([&signals, on_signal] {
    int number = 0;
    sigwait(&signals, &number);
    if (number != SIGUSR1) {
      spdlog::warn("{}: stopping after the current tasks", number == SIGTERM ? "SIGTERM" : "SIGINT");
      on_signal();
    }
  });
  const int code = body();
  pthread_kill(watcher.native_handle(), SIGUSR1);
  watcher.join();
  return code;
}

int RunEmbedded(const Flow& flow, const Args& args) {
  auto options = MakeRunOptions(args);
  if (!options.ok()) return std::cerr << options.status().message() << "\n", 2;
  engine::EngineOptions engine_options;
  if (!args.db.empty()) {
    auto store = store::OpenSqliteStore(args.db);
    if (!store.ok()) return Fail(store.status());
    engine_options.store = *store;
  }
  auto engine = engine::Engine::Open(engine_options);
  if (!engine.ok()) return Fail(engine.status());
  options->release_polls = [&engine] { (*engine)->Shutdown(); };
  return Report(RunFlow(flow, **engine, *options), args.json);
}

Result<std::unique_ptr<app::RemoteService>> OpenRemote(const Args& args) {
  return app::RemoteService::Open(args.remote);
}

int RunRemote(const Flow& flow, const Args& args) {
  auto options = MakeRunOptions(args);
  if (!options.ok()) return std::cerr << options.status().message() << "\n", 2;
  auto remote = OpenRemote(args);
  if (!remote.ok()) return Fail(remote.status());
  app::RemoteService& service = **remote;
  options->release_polls = [&service] { service.StopPolls(); };
  options->payloads = service.payloads();
  return Report(RunFlow(flow, service, *options), args.json);
}

int Start(const Flow& flow, const Args& args) {
  auto options = MakeRunOptions(args);
  if (!options.ok()) return std::cerr << options.status().message() << "\n", 2;
  auto remote = OpenRemote(args);
  if (!remote.ok()) return Fail(remote.status());
  options->payloads = (*remote)->payloads();
  Result<RunSummary> started = StartFlow(flow, **remote, *options);
  if (!started.ok()) return Fail(started.status());
  if (!args.wait) {
    if (args.json) {
      std::cout << Json{{"workflowId", started->workflow_id}, {"runId", started->run_id}}.dump()
                << std::endl;
    } else {
      std::cout << started->workflow_id << " started (run " << started->run_id << ")\n";
    }
    return 0;
  }
  return Report(WaitForClose(flow, **remote, *started, options->progress, options->payloads),
                args.json);
}

// Sends a signal to a run of the flow (its latest run unless --run-id).
int Signal(const Flow& flow, const Args& args) {
  Json request = {{"domain", flow.domain()},
                  {"workflowId", args.signal_workflow_id},
                  {"signalName", args.signal_name}};
  if (!args.run_id.empty()) request["runId"] = args.run_id;
  if (!args.input.empty()) request["input"] = args.input;
  auto remote = OpenRemote(args);
  if (!remote.ok()) return Fail(remote.status());
  payload::PayloadService payloads(**remote, (*remote)->payloads(), flow.domain());
  Result<Json> sent = payloads.Call("SignalWorkflowExecution", request);
  if (!sent.ok()) return Fail(sent.status());
  if (args.json) {
    std::cout << Json{{"workflowId", args.signal_workflow_id}, {"signalName", args.signal_name}}.dump()
              << std::endl;
  } else {
    std::cout << "signal " << args.signal_name << " sent to " << args.signal_workflow_id << "\n";
  }
  return 0;
}

// Runs `loop` (a decider's or workers' Run) against the remote engine until
// SIGINT/SIGTERM: held polls end at once; a task being run is finished and
// answered.
int RunLoop(const Flow& flow, const Args& args, const char* what,
            const std::function<void(app::RemoteService&, std::stop_token)>& loop) {
  auto remote = OpenRemote(args);
  if (!remote.ok()) return Fail(remote.status());
  app::RemoteService& service = **remote;
  Status registered = Register(flow, service);
  if (!registered.ok()) return Fail(registered);
  std::stop_source stop;
  return WithSignals(
      [&] {
        stop.request_stop();
        service.StopPolls();
      },
      [&] {
        spdlog::info("{} for {} on {}", what, flow.name(), service.endpoint());
        loop(service, stop.get_token());
        return 0;
      });
}

// The flow and the flows it runs as children: a flow program serves them all.
std::vector<const Flow*> ServedFlows(const Flow& flow) {
  std::vector<const Flow*> flows{&flow};
  for (const Flow* child : flow.ChildFlows()) flows.push_back(child);
  return flows;
}

int RunDecider(const Flow& flow, const Args& args) {
  return RunLoop(flow, args, "deciding", [&](app::RemoteService& service, std::stop_token stop) {
    std::vector<std::jthread> loops;
    DeciderOptions options;
    options.payloads = service.payloads();
    for (const Flow* f : ServedFlows(flow)) {
      loops.emplace_back([f, &service, stop, options] { Decider(*f, service, options).Run(stop); });
    }
  });
}

int RunWorker(const Flow& flow, const Args& args) {
  WorkerOptions options;
  options.activities = args.activities;
  options.pollers = args.pollers;
  for (const auto& name : options.activities) {
    const Activity* activity = flow.FindActivity(name);
    if (activity == nullptr || !activity->local()) {
      std::cerr << "error: "
                << (activity == nullptr   ? "unknown activity: " + name
                    : activity->external() ? "activity " + name + " is External"
                                           : "activity " + name + " runs a child flow")
                << "\n";
      return 2;
    }
  }
  return RunLoop(flow, args, "working", [&](app::RemoteService& service, std::stop_token stop) {
    options.payloads = service.payloads();
    if (!options.activities.empty()) {
      ActivityWorker(flow, service, options).Run(stop);  // named activities of this flow
      return;
    }
    std::vector<std::jthread> loops;
    for (const Flow* f : ServedFlows(flow)) {
      loops.emplace_back([f, &service, &options, stop] { ActivityWorker(*f, service, options).Run(stop); });
    }
  });
}

void AddRemoteOptions(CLI::App* command, Args& args, bool endpoint_required) {
  auto* endpoint = command->add_option(
      "--endpoint", args.remote.endpoint,
      "The engine's URL: a garcon server (http://127.0.0.1:7800), or Amazon SWF "
      "(default: AWS_ENDPOINT_URL_SWF, else https://swf.{region}.amazonaws.com)");
  if (endpoint_required) endpoint->required();
  command->add_option("--region", args.remote.region,
                      "AWS region (default: AWS_REGION, the profile's, else us-east-1)");
  command->add_option("--profile", args.remote.profile, "Profile of ~/.aws/credentials");
}

}  // namespace

int Main(const Flow& flow, int argc, char** argv) {
  (void)terminate_installed;
  main_started.store(true);
  CLI::App app{"Runs the " + flow.name() + " flow (domain " + flow.domain() + ")."};
  app.require_subcommand(1);
  bool verbose = false;
  app.add_flag("-v,--verbose", verbose, "Log what the decider and workers do");
  Args args;

  auto* run = app.add_subcommand(
      "run", "Run one execution to its close, decider and workers in this process");
  run->add_option("--input", args.input, "The workflow input, a JSON object");
  run->add_option("--workflow-id", args.workflow_id, "The workflow id (default: {flow}-{random})");
  run->add_flag("--json", args.json, "End with one JSON line: closeStatus, result, historyEvents");
  auto* db = run->add_option("--db", args.db,
                             "Embedded engine durable in this SQLite file (default: in memory)");
  AddRemoteOptions(run, args, false);
  db->excludes(run->get_option("--endpoint"));
  run->add_option("--signal", args.signals,
                  "Send this signal to the run once it starts: NAME or NAME=INPUT (repeatable; "
                  "e.g. --signal approved='{\"approver\":\"ana\"}')");
  run->add_flag("--expect-external", args.expect_external,
               "Run although the flow has External activities (their workers run elsewhere)");
  run->add_option("--pollers", args.pollers,
                  "Poll loops per activity: tasks of one activity run up to this many at once")
      ->check(CLI::Range(1, 256));

  auto* decider = app.add_subcommand("decider", "Run the flow's decider against an engine");
  AddRemoteOptions(decider, args, false);

  auto* worker = app.add_subcommand("worker", "Run the flow's activity workers against an engine");
  AddRemoteOptions(worker, args, false);
  worker->add_option("--activity", args.activities,
                     "Serve only these activities (short or full names; default: all)");
  worker->add_option("--pollers", args.pollers,
                     "Poll loops per activity: tasks of one activity run up to this many at once")
      ->check(CLI::Range(1, 256));

  auto* start = app.add_subcommand("start", "Start one execution on an engine");
  AddRemoteOptions(start, args, false);
  start->add_option("--input", args.input, "The workflow input, a JSON object");
  start->add_option("--workflow-id", args.workflow_id, "The workflow id (default: {flow}-{random})");
  start->add_flag("--wait", args.wait, "Wait for the close and report it");
  start->add_flag("--json", args.json, "Print one JSON line");

  auto* signal = app.add_subcommand(
      "signal", "Send a signal to a run of the flow (e.g. signal order-42 approved --input "
                "'{\"approver\":\"ana\"}')");
  AddRemoteOptions(signal, args, false);
  signal->add_option("workflow_id", args.signal_workflow_id, "The run's workflow id")->required();
  signal->add_option("name", args.signal_name, "The signal's name")->required();
  signal->add_option("--input", args.input, "What the signal carries (a JSON object is merged "
                                            "into the flow's context)");
  signal->add_option("--run-id", args.run_id, "A run of that workflow id (default: the open one)");
  signal->add_flag("--json", args.json, "Print one JSON line");

  std::string graph_format = "mermaid";
  auto* graph = app.add_subcommand(
      "graph", "Print the flow's graph (activities, requirements, runners, retries): Mermaid, "
               "DOT or JSON (e.g. graph --format dot | dot -Tsvg > flow.svg)");
  graph->add_option("--format", graph_format, "mermaid, dot or json")
      ->check(CLI::IsMember({"mermaid", "dot", "json"}))
      ->capture_default_str();

  CLI11_PARSE(app, argc, argv);
  SetUpLogging(verbose);
  try {
    if (run->parsed()) {
      if (Status external = CheckExternal(flow, args); !external.ok()) {
        std::cerr << "error: " << external.message() << "\n";
        return 2;
      }
      const bool remote = !args.remote.endpoint.empty() || !args.remote.region.empty() ||
                          !args.remote.profile.empty();
      return remote ? RunRemote(flow, args) : RunEmbedded(flow, args);
    }
    if (decider->parsed()) return RunDecider(flow, args);
    if (worker->parsed()) return RunWorker(flow, args);
    if (start->parsed()) return Start(flow, args);
    if (signal->parsed()) return Signal(flow, args);
    if (graph->parsed()) {
      // The flow, then each child flow it runs.
      std::vector<const Flow*> flows{&flow};
      for (const Flow* child : flow.ChildFlows()) flows.push_back(child);
      for (const Flow* f : flows) {
        const Json g = f->Graph();
        if (graph_format == "json") {
          std::cout << g.dump() << "\n";
        } else {
          std::cout << (graph_format == "dot" ? GraphDot(g) : GraphMermaid(g));
        }
      }
      return 0;
    }
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 2;
}

}  // namespace garcon
