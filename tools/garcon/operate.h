// The operating commands of the `garcon` command line: domains, types,
// workflow executions, histories and task lists of any SWF engine (`garcon
// server`, Amazon SWF, or another implementation).
//
//   CLI::App app{...};
//   garcon::tools::AddOperateCommands(app);
//   if (auto code = garcon::tools::ParseCommandLine(app, argc, argv)) return *code;
//   if (auto code = garcon::tools::RunOperateCommand(app)) return *code;
#pragma once

#include <CLI/CLI.hpp>
#include <optional>

namespace garcon::tools {

// Exit codes of the operating commands (documented in --help and README).
enum ExitCode : int {
  kExitOk = 0,
  kExitWorkflowFailed = 1,  // the awaited run failed, timed out, was canceled or terminated
  kExitUsage = 2,           // wrong arguments
  kExitNotFound = 3,        // UnknownResourceFault: no such domain, type or execution
  kExitCannotConnect = 4,   // the endpoint did not answer
  kExitServiceError = 5,    // any other fault the service answered with
};

// Adds the global flags (--endpoint, --region, --profile, --domain, --json)
// and the subcommands `domain`, `type`, `workflow` and `tasks` to `app`.
// Global flags are accepted before or after the subcommand.
void AddOperateCommands(CLI::App& app);

// Parses; on an error prints it (an unknown subcommand with the closest
// known one) and gives the exit code (0 after --help, 2 for a usage error).
// nullopt: parsed, go on.
std::optional<int> ParseCommandLine(CLI::App& app, int argc, char** argv);

// Runs the operating command that was parsed and gives its exit code;
// nullopt when none of them was.
std::optional<int> RunOperateCommand(CLI::App& app);

}  // namespace garcon::tools
