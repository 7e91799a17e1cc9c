// The `garcon` command line. Subcommands:
//   garcon server [--bind 127.0.0.1] [--port 7800] [--memory | --db FILE]
//                 [--credentials FILE | --insecure] [--threads N]
//                 [--max-connections N] [--poll-timeout S] [-v]
//   garcon new NAME [--dir DIR]      a flow project (new_project.h)
//   garcon domain|type|workflow|tasks ...   (operate.h; docs/cli.md)
#include <pthread.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <iostream>

#include "base/allocator.h"
#include "garcon/engine.h"
#include "garcon/server.h"
#include "new_project.h"
#include "operate.h"

namespace {

void SetUpLogging(bool verbose, bool quiet) {
  auto logger = spdlog::stderr_color_mt("garcon");
  logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %n %^%l%$ %v");
  spdlog::set_default_logger(logger);
  spdlog::set_level(verbose ? spdlog::level::debug
                            : (quiet ? spdlog::level::warn : spdlog::level::info));
}

struct ServerArgs {
  std::string bind = "127.0.0.1";
  int port = 7800;
  bool memory = false;
  std::string db = "garcon.db";
  std::string credentials;
  bool insecure = false;
  int threads = 0;
  std::size_t max_connections = 1000;
  double poll_timeout = 60;
};

int RunServer(const ServerArgs& args) {
  garcon::server::ServerOptions options;
  options.bind_address = args.bind;
  options.port = static_cast<std::uint16_t>(args.port);
  options.threads = args.threads;
  options.insecure = args.insecure;
  options.max_connections = args.max_connections;
  if (!args.credentials.empty()) {
    auto creds = garcon::server::ReadCredentialsFile(args.credentials);
    if (!creds.ok()) {
      std::cerr << "garcon server: " << creds.status().message() << "\n";
      return 2;
    }
    if (creds->empty()) {
      std::cerr << "garcon server: " << args.credentials << " has no credentials\n";
      return 2;
    }
    options.credentials = std::move(*creds);
  }

  // SIGINT and SIGTERM are taken by sigwait below; the server's threads,
  // started after this, inherit the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  garcon::engine::EngineOptions engine_options;
  engine_options.poll_timeout = std::chrono::duration_cast<garcon::Duration>(
      std::chrono::duration<double>(args.poll_timeout));
  if (!args.memory) {
    auto store = garcon::store::OpenSqliteStore(args.db);
    if (!store.ok()) {
      std::cerr << "garcon server: " << store.status().message() << "\n";
      return 2;
    }
    engine_options.store = *store;
  }
  auto opened = garcon::engine::Engine::Open(engine_options);
  if (!opened.ok()) {
    std::cerr << "garcon server: " << opened.status().message() << "\n";
    return 2;
  }
  garcon::engine::Engine& engine = **opened;
  garcon::server::HttpServer server(engine, options);
  garcon::Status started = server.Start();
  if (!started.ok()) {
    std::cerr << "garcon server: " << started.message() << "\n";
    return 1;
  }
  const std::string host =
      args.bind.find(':') != std::string::npos ? "[" + args.bind + "]" : args.bind;
  std::printf("listening on %s:%u (store: %s%s)\n", host.c_str(),
              static_cast<unsigned>(server.port()),
              args.memory ? "memory" : ("SQLite " + args.db).c_str(),
              options.credentials.empty() ? ", signatures not checked" : ", SigV4 required");
  std::fflush(stdout);
  spdlog::info("memory allocator: {}", garcon::AllocatorName());

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  spdlog::info("{}: shutting down", signal_number == SIGTERM ? "SIGTERM" : "SIGINT");
  // Answer every held poll (and refuse new ones) so that pollers move on,
  // then stop accepting and close the connections.
  engine.Shutdown();
  server.Stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Garcon: durable workflows on an embedded engine that follows Amazon SWF"};
  app.require_subcommand(1);
  bool verbose = false;
  bool quiet = false;
  app.add_flag("-v,--verbose", verbose, "Log every request");
  app.add_flag("-q,--quiet", quiet, "Log only warnings and errors");
  garcon::tools::AddOperateCommands(app);  // domain, type, workflow, tasks

  ServerArgs args;
  auto* server = app.add_subcommand(
      "server", "Serve the engine over Amazon SWF's wire protocol (AWS JSON 1.0 over HTTP)");
  server->add_option("--bind", args.bind, "Address to listen on")->capture_default_str();
  server->add_option("--port", args.port, "Port to listen on (0: pick a free one)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  auto* memory =
      server->add_flag("--memory", args.memory, "Keep everything in memory (lost on exit)");
  server->add_option("--db", args.db, "SQLite file to keep the engine's state in (created if missing)")
      ->capture_default_str()
      ->excludes(memory);
  server
      ->add_option("--credentials", args.credentials,
                   "File of 'ACCESS_KEY_ID SECRET' lines; when given, every request's "
                   "SigV4 signature is verified")
      ->check(CLI::ExistingFile);
  server->add_flag("--insecure", args.insecure,
                   "Allow an address other than loopback without --credentials (any client "
                   "that reaches it can call every operation)");
  server
      ->add_option("--max-connections", args.max_connections,
                   "Open connections at most; past it idle ones make room, else 503")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 20))
      ->capture_default_str();
  server->add_option("--threads", args.threads, "I/O threads (0: half the cores, at least 1)")
      ->check(CLI::Range(0, 256))
      ->capture_default_str();
  server
      ->add_option("--poll-timeout", args.poll_timeout,
                   "Seconds a long poll is held before the empty answer (SWF: 60)")
      ->check(CLI::Range(0.0, 3600.0))
      ->capture_default_str();

  garcon::tools::NewCommand new_project;
  garcon::tools::AddNewCommand(app, new_project);

  if (auto code = garcon::tools::ParseCommandLine(app, argc, argv)) return *code;
  SetUpLogging(verbose, quiet);
  try {
    if (server->parsed()) return RunServer(args);
    if (new_project.command->parsed()) return new_project.Run();
    if (auto code = garcon::tools::RunOperateCommand(app)) return *code;
  } catch (const std::exception& e) {
    std::cerr << "garcon: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
