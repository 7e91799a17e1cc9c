// Shared by the operating commands: the connection, output helpers
// (tables, times, JSON), the mapping of faults to exit codes, and the
// polite wait used by every command that waits.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "app/remote.h"
#include "garcon/service.h"
#include "operate.h"

namespace garcon::tools {

// The global flags.
struct GlobalOptions {
  app::RemoteOptions remote;
  std::string domain;  // --domain, else $GARCON_DOMAIN, else "dev"
  bool json = false;
};

// What a command runs with: the flags and, opened on first use, the service.
class Context {
 public:
  explicit Context(const GlobalOptions& options) : options_(options) {}

  const GlobalOptions& options() const { return options_; }
  bool json() const { return options_.json; }
  const std::string& domain() const { return options_.domain; }

  // Calls the service; a failure is printed on stderr ("garcon: Fault:
  // message") and recorded so that exit_code() names it.
  Result<Json> Call(std::string_view operation, const Json& request);
  // The exit code for the last failed Call (kExitServiceError when none).
  int exit_code() const { return failure_code_; }

 private:
  const GlobalOptions& options_;
  std::unique_ptr<app::RemoteService> service_;
  std::unique_ptr<swf::Service> payloads_;  // service_, payloads resolved
  int failure_code_ = kExitServiceError;
};

// The exit code for a failed call's status.
int ExitCodeFor(const Status& status);

// A command: filled by its callback at parse time, run after the parse.
using Action = std::function<int(Context&)>;
// Registers `action` to run when `command` is the subcommand parsed.
void SetAction(CLI::App* command, Action action);

// The subcommand groups (domain_commands.cc, workflow_commands.cc, ...).
void AddDomainCommands(CLI::App& app);
void AddTypeCommands(CLI::App& app);
void AddTaskCommands(CLI::App& app);
void AddWorkflowCommands(CLI::App& app);

// --- output ------------------------------------------------------------------

// Left-aligned columns separated by two spaces, a header row first.
void PrintTable(const std::vector<std::string>& header,
                const std::vector<std::vector<std::string>>& rows);
// An SWF timestamp (seconds since the epoch, a number) as local
// "YYYY-MM-DD HH:MM:SS"; "-" for a missing one.
std::string FormatTime(const Json& timestamp);
// Seconds as "850ms", "12.3s", "4m05s", "2h03m".
std::string FormatDuration(double seconds);
// Prints `value` as one line of JSON on stdout.
void PrintJson(const Json& value);
// A string field of an object, or "" (tolerates missing fields and non-objects).
std::string Str(const Json& object, const char* key);

// Reads "30s", "15m", "2h", "7d" (a duration back from now) or a number of
// seconds since the epoch; false when unreadable.
bool ParseTimeArg(const std::string& text, double* epoch_seconds);

// --- waiting -------------------------------------------------------------------

// The pauses between polls of a waiting command: 0.5 s, doubling up to 5 s,
// back to 0.5 s after a change. Never faster than twice a second.
class Backoff {
 public:
  void Wait();
  void Reset() { delay_ = kFirst; }
  static constexpr std::chrono::milliseconds kFirst{500};
  static constexpr std::chrono::milliseconds kMax{5000};

 private:
  std::chrono::milliseconds delay_ = kFirst;
};

// The latest run of `workflow_id` (an open one first, else the newest
// closed one); kUnknownResource when it has none.
Result<std::string> LatestRunId(Context& context, const std::string& workflow_id);

// Edit distance, for "did you mean".
std::size_t EditDistance(std::string_view a, std::string_view b);

}  // namespace garcon::tools
