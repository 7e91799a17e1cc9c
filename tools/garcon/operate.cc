#include "operate.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <ctime>
#include <iostream>
#include <map>
#include <thread>

#include "commands.h"
#include "base/status_macros.h"
#include "payload/payload_service.h"

namespace garcon::tools {
namespace {

GlobalOptions& Globals() {
  static GlobalOptions options;
  return options;
}

std::map<const CLI::App*, Action>& Actions() {
  static std::map<const CLI::App*, Action> actions;
  return actions;
}

// The deepest subcommand parsed.
const CLI::App* Selected(const CLI::App& app) {
  for (const CLI::App* sub : app.get_subcommands()) return Selected(*sub);
  return &app;
}

const CLI::Option* FindOption(const CLI::App* app, const std::string& name) {
  for (; app != nullptr; app = app->get_parent()) {
    if (const CLI::Option* option = app->get_option_no_throw(name)) return option;
  }
  return nullptr;
}

std::string CommandPath(const CLI::App* app) {
  std::string path;
  for (; app != nullptr; app = app->get_parent()) {
    path = app->get_parent() == nullptr ? "garcon" + path : " " + app->get_name() + path;
  }
  return path;
}

// Before CLI11 sees them: a word where a subcommand is expected that names
// none gets "unknown command" and the closest name. `*deepest`: the last
// subcommand named.
std::optional<int> CheckSubcommandWords(CLI::App& app, int argc, char** argv, CLI::App** deepest) {
  CLI::App*& current = *deepest;
  current = &app;
  for (int i = 1; i < argc; ++i) {
    const std::string word = argv[i];
    if (word == "--") return std::nullopt;
    if (word.size() > 1 && word[0] == '-') {
      if (word.find('=') != std::string::npos) continue;
      const CLI::Option* option = FindOption(current, word);
      if (option != nullptr && option->get_expected_min() > 0) ++i;  // skip its value
      continue;
    }
    const auto subs = current->get_subcommands([](CLI::App*) { return true; });
    if (subs.empty()) return std::nullopt;  // positional arguments from here
    CLI::App* next = nullptr;
    for (CLI::App* sub : subs) {
      if (sub->check_name(word)) next = sub;
    }
    if (next == nullptr) {
      std::string best;
      std::size_t best_distance = std::string::npos;
      for (CLI::App* sub : subs) {
        const std::size_t d = EditDistance(word, sub->get_name());
        if (d < best_distance) best_distance = d, best = sub->get_name();
      }
      std::cerr << CommandPath(current) << ": unknown command '" << word << "'";
      if (!best.empty() && (best_distance <= std::max<std::size_t>(2, word.size() / 2) ||
                            best.rfind(word, 0) == 0)) {
        std::cerr << "; did you mean '" << best << "'?";
      }
      std::cerr << "\nRun '" << CommandPath(current) << " --help' for the commands.\n";
      return kExitUsage;
    }
    current = next;
  }
  return std::nullopt;
}

// After CLI11 refused an argument: an unknown option of `command` (or of
// its parents) gets "unknown option" and the closest name.
std::optional<int> CheckOptions(const CLI::App* command, int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string word = argv[i];
    if (word == "--") break;
    if (word.size() < 2 || word[0] != '-' || word == "-h" || word == "--help") continue;
    word = word.substr(0, word.find('='));
    if (FindOption(command, word) != nullptr) continue;
    std::string best;
    std::size_t best_distance = std::string::npos;
    for (const CLI::App* app = command; app != nullptr; app = app->get_parent()) {
      for (const CLI::Option* option : app->get_options()) {
        for (const std::string& name : option->get_lnames()) {
          const std::size_t d = EditDistance(word, "--" + name);
          if (d < best_distance) best_distance = d, best = "--" + name;
        }
      }
    }
    std::cerr << CommandPath(command) << ": unknown option '" << word << "'";
    if (!best.empty() && best_distance <= std::max<std::size_t>(2, word.size() / 3)) {
      std::cerr << "; did you mean '" << best << "'?";
    }
    std::cerr << "\nRun '" << CommandPath(command) << " --help' for its options.\n";
    return kExitUsage;
  }
  return std::nullopt;
}

constexpr const char* kExitCodes =
    "Exit codes: 0 ok; 1 the awaited workflow failed, timed out, was canceled or terminated;\n"
    "2 wrong arguments; 3 not found (no such domain, type or execution); 4 cannot connect;\n"
    "5 any other service error.";

}  // namespace

void SetAction(CLI::App* command, Action action) { Actions()[command] = std::move(action); }

void AddOperateCommands(CLI::App& app) {
  GlobalOptions& g = Globals();
  // Subcommands added after this inherit it: a global flag may follow them.
  app.fallthrough();
  app.add_option(
      "--endpoint", g.remote.endpoint,
      "The engine's URL (default: $AWS_ENDPOINT_URL_SWF, else Amazon SWF in the region)");
  app.add_option("--region", g.remote.region, "AWS region (default: as the AWS tools resolve it)");
  app.add_option("--profile", g.remote.profile, "Profile of ~/.aws/credentials and ~/.aws/config");
  app.add_option("--domain", g.domain, "Domain (default: $GARCON_DOMAIN, else dev)");
  app.add_flag("--json", g.json, "Print JSON for scripts instead of tables");
  app.footer(
      std::string("Examples:\n"
                  "  garcon server --memory --port 7800\n"
                  "  garcon --endpoint http://127.0.0.1:7800 workflow list\n"
                  "  garcon workflow show order_flow-1a2b --endpoint http://127.0.0.1:7800\n") +
      kExitCodes);
  AddDomainCommands(app);
  AddTypeCommands(app);
  AddWorkflowCommands(app);
  AddTaskCommands(app);
}

std::optional<int> ParseCommandLine(CLI::App& app, int argc, char** argv) {
  CLI::App* deepest = &app;
  if (auto code = CheckSubcommandWords(app, argc, argv, &deepest)) return code;
  try {
    app.parse(argc, argv);
  } catch (const CLI::ExtrasError& e) {
    if (auto code = CheckOptions(deepest, argc, argv)) return code;
    app.exit(e);
    return kExitUsage;
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }
  return std::nullopt;
}

std::optional<int> RunOperateCommand(CLI::App& app) {
  const CLI::App* selected = Selected(app);
  auto found = Actions().find(selected);
  if (found == Actions().end()) return std::nullopt;
  const CLI::Option* verbose = app.get_option_no_throw("--verbose");
  if (verbose == nullptr || verbose->count() == 0) spdlog::set_level(spdlog::level::warn);
  GlobalOptions& g = Globals();
  if (g.domain.empty()) {
    const char* env = std::getenv("GARCON_DOMAIN");
    g.domain = env != nullptr && *env != '\0' ? env : "dev";
  }
  Context context(g);
  try {
    return found->second(context);
  } catch (const std::exception& e) {
    std::cerr << "garcon: " << e.what() << "\n";
    return kExitServiceError;
  }
}

// --- Context -------------------------------------------------------------------

Result<Json> Context::Call(std::string_view operation, const Json& request) {
  if (service_ == nullptr) {
    app::RemoteOptions remote = options_.remote;
    if (remote.endpoint.empty()) {
      // An endpoint from the environment or the profile (a `garcon server`)
      // is taken as if given, so that it too is reached unsigned when no
      // credentials are found; Amazon SWF always needs them.
      const client::Environment env = client::ProcessEnvironment();
      const std::string region = client::ResolveRegion(remote.region, remote.profile, env);
      std::string endpoint = client::ResolveEndpoint("", region, remote.profile, env);
      if (endpoint.find(".amazonaws.com") == std::string::npos)
        remote.endpoint = std::move(endpoint);
    }
    auto opened = app::RemoteService::Open(remote);
    if (!opened.ok()) {
      std::cerr << "garcon: " << opened.status().message() << "\n";
      failure_code_ = opened.fault() == Fault::kMissingAuthenticationToken ||
                              opened.fault() == Fault::kValidation
                          ? kExitUsage
                          : kExitServiceError;
      return opened.status();
    }
    service_ = std::move(*opened);
    // Values stored as payloads (past SWF's 32,768 characters) are shown,
    // and sent, as the values themselves (docs/payloads.md).
    payloads_ = std::make_unique<payload::PayloadService>(*service_, service_->payloads(),
                                                          options_.domain);
  }
  Result<Json> result = payloads_->Call(operation, request);
  if (!result.ok()) {
    const Status& s = result.status();
    const bool transport = s.fault() == Fault::kServiceUnavailable &&
                           s.message().rfind(service_->endpoint() + ": ", 0) == 0;
    failure_code_ = transport ? kExitCannotConnect : ExitCodeFor(s);
    if (transport) {
      std::cerr << "garcon: cannot connect to " << s.message() << "\n";
    } else {
      std::cerr << "garcon: " << FaultName(s.fault()) << ": " << s.message() << "\n";
    }
  }
  return result;
}

int ExitCodeFor(const Status& status) {
  switch (status.fault()) {
    case Fault::kOk:
      return kExitOk;
    case Fault::kUnknownResource:
      return kExitNotFound;
    case Fault::kValidation:
    case Fault::kSerialization:
      return kExitUsage;
    default:
      return kExitServiceError;
  }
}

// --- output --------------------------------------------------------------------

void PrintTable(const std::vector<std::string>& header,
                const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths(header.size());
  for (std::size_t i = 0; i < header.size(); ++i) widths[i] = header[i].size();
  for (const auto& row : rows) {
    for (std::size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      widths[i] = std::max(widths[i], row[i].size());
    }
  }
  auto print = [&](const std::vector<std::string>& row) {
    std::string line;
    for (std::size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 2, ' ');
    }
    std::cout << line << "\n";
  };
  print(header);
  for (const auto& row : rows) print(row);
}

std::string FormatTime(const Json& timestamp) {
  if (!timestamp.is_number()) return "-";
  const auto seconds = static_cast<std::time_t>(timestamp.get<double>());
  std::tm tm{};
  localtime_r(&seconds, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%d %H:%M:%S", &tm);
  return buffer;
}

std::string FormatDuration(double seconds) {
  if (seconds < 0) seconds = 0;
  if (seconds < 1) return fmt::format("{}ms", static_cast<long>(seconds * 1000 + 0.5));
  if (seconds < 60) return fmt::format("{:.1f}s", seconds);
  const auto s = static_cast<long>(seconds);
  if (s < 3600) return fmt::format("{}m{:02}s", s / 60, s % 60);
  return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
}

void PrintJson(const Json& value) { std::cout << value.dump() << std::endl; }

std::string Str(const Json& object, const char* key) {
  if (!object.is_object()) return "";
  auto it = object.find(key);
  if (it == object.end()) return "";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

bool ParseTimeArg(const std::string& text, double* epoch_seconds) {
  if (text.empty()) return false;
  char* end = nullptr;
  const double number = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || number < 0) return false;
  const std::string unit(end);
  double scale = 0;
  if (unit.empty()) {
    *epoch_seconds = number;
    return true;
  }
  if (unit == "s") scale = 1;
  if (unit == "m") scale = 60;
  if (unit == "h") scale = 3600;
  if (unit == "d") scale = 86400;
  if (scale == 0) return false;
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  *epoch_seconds = now - number * scale;
  return true;
}

void Backoff::Wait() {
  std::this_thread::sleep_for(delay_);
  delay_ = std::min(kMax, delay_ * 2);
}

Result<std::string> LatestRunId(Context& context, const std::string& workflow_id) {
  Json request = {{"domain", context.domain()},
                  {"startTimeFilter", {{"oldestDate", 0}}},
                  {"executionFilter", {{"workflowId", workflow_id}}},
                  {"maximumPageSize", 1},
                  {"reverseOrder", true}};
  ASSIGN_OR_RETURN(Json open, context.Call("ListOpenWorkflowExecutions", request));
  if (!open["executionInfos"].empty()) {
    return open["executionInfos"][0]["execution"].value("runId", "");
  }
  ASSIGN_OR_RETURN(Json closed, context.Call("ListClosedWorkflowExecutions", request));
  if (!closed["executionInfos"].empty()) {
    return closed["executionInfos"][0]["execution"].value("runId", "");
  }
  std::cerr << "garcon: no execution of workflow id '" << workflow_id << "' in domain "
            << context.domain() << "\n";
  return Status(Fault::kUnknownResource, "no execution of " + workflow_id);
}

std::size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace garcon::tools
