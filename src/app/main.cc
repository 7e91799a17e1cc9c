#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <iostream>

#include "garcon/app.h"
#include "garcon/engine.h"

namespace garcon {
namespace {

void SetUpLogging(bool verbose) {
  auto logger = spdlog::stderr_color_mt("garcon");
  logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %n %^%l%$ %v");
  spdlog::set_default_logger(logger);
  spdlog::set_level(verbose ? spdlog::level::info : spdlog::level::warn);
}

void PrintSummary(const RunSummary& s) {
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

int Run(const Flow& flow, const std::string& input_text, const std::string& workflow_id,
        bool json) {
  RunOptions options;
  options.workflow_id = workflow_id;
  options.progress = !json && isatty(STDERR_FILENO);
  if (!input_text.empty()) {
    options.input = Json::parse(input_text, nullptr, false);
    if (!options.input.is_object()) {
      std::cerr << "--input must be a JSON object\n";
      return 2;
    }
  }
  engine::Engine engine;
  options.release_polls = [&engine] { engine.Shutdown(); };
  Result<RunSummary> summary = RunFlow(flow, engine, options);
  if (!summary.ok()) {
    std::cerr << "error: " << summary.status().ToString() << "\n";
    return 1;
  }
  if (json) {
    std::cout << summary->ToJson().dump() << std::endl;
  } else {
    PrintSummary(*summary);
  }
  return summary->close_status == "COMPLETED" ? 0 : 1;
}

}  // namespace

int Main(const Flow& flow, int argc, char** argv) {
  CLI::App app{"Runs the " + flow.name() + " flow (domain " + flow.domain() + ")."};
  app.require_subcommand(1);
  bool verbose = false;
  app.add_flag("-v,--verbose", verbose, "Log what the decider and workers do");

  std::string input;
  std::string workflow_id;
  bool json = false;
  auto* run = app.add_subcommand("run", "Run one execution on the embedded engine, to its close");
  run->add_option("--input", input, "The workflow input, a JSON object");
  run->add_option("--workflow-id", workflow_id, "The workflow id (default: {flow}-{random})");
  run->add_flag("--json", json, "End with one JSON line: closeStatus, result, historyEvents");

  CLI11_PARSE(app, argc, argv);
  SetUpLogging(verbose);
  try {
    if (run->parsed()) return Run(flow, input, workflow_id, json);
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 2;
}

}  // namespace garcon
