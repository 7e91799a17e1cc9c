// `garcon workflow ...`: list, count, describe, show, start, signal, cancel,
// terminate and wait.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <map>
#include <memory>
#include <random>

#include "commands.h"
#include "base/status_macros.h"

namespace garcon::tools {
namespace {

struct WorkflowArgs {
  std::string id;
  std::string run;
  // list / count
  bool open = false;
  bool closed = false;
  std::string type;
  std::string tag;
  std::string status;
  std::string since;
  std::string until;
  int limit = 20;
  bool all = false;
  // show
  bool events = false;
  bool follow = false;
  // start
  std::string input;
  std::string task_list;
  std::vector<std::string> tags;
  bool wait = false;
  // signal / terminate
  std::string signal;
  std::string reason;
  std::string details;
};

constexpr const char* kWaitNote =
    "Waiting polls the service at most twice a second, backing off to once every 5 s.\n"
    "Exit codes: 0 ok (completed); 1 the run failed, timed out, was canceled or terminated;\n"
    "2 wrong arguments; 3 not found; 4 cannot connect; 5 other service error.";

// "name" or "name@version".
std::pair<std::string, std::string> SplitType(const std::string& type) {
  const auto at = type.rfind('@');
  if (at == std::string::npos) return {type, ""};
  return {type.substr(0, at), type.substr(at + 1)};
}

// Fills the filters of a List*/Count* request; an error message for wrong ones.
std::string AddFilters(const WorkflowArgs& args, bool closed, Json& request) {
  int exclusive = 0;
  Json window = {{"oldestDate", 0}};
  double t = 0;
  if (!args.since.empty()) {
    if (!ParseTimeArg(args.since, &t)) return "--since: expected 30s, 15m, 2h, 7d or epoch seconds";
    window["oldestDate"] = t;
  }
  if (!args.until.empty()) {
    if (!ParseTimeArg(args.until, &t)) return "--until: expected 30s, 15m, 2h, 7d or epoch seconds";
    window["latestDate"] = t;
  }
  request["startTimeFilter"] = window;
  if (!args.type.empty()) {
    ++exclusive;
    auto [name, version] = SplitType(args.type);
    request["typeFilter"] = {{"name", name}};
    if (!version.empty()) request["typeFilter"]["version"] = version;
  }
  if (!args.tag.empty()) ++exclusive, request["tagFilter"] = {{"tag", args.tag}};
  if (!args.id.empty()) ++exclusive, request["executionFilter"] = {{"workflowId", args.id}};
  if (!args.status.empty() && closed)
    ++exclusive, request["closeStatusFilter"] = {{"status", args.status}};
  if (exclusive > 1)
    return "--type, --tag, --id and --status filter one at a time (SWF allows one)";
  return "";
}

void AddListFilters(CLI::App* command, WorkflowArgs& args) {
  auto* open = command->add_flag("--open", args.open, "Only open executions");
  auto* closed = command->add_flag("--closed", args.closed, "Only closed executions");
  open->excludes(closed);
  command->add_option("--type", args.type, "Only of this workflow type: NAME or NAME@VERSION");
  command->add_option("--tag", args.tag, "Only with this tag");
  command->add_option("--id", args.id, "Only of this workflow id");
  command->add_option("--status", args.status, "Only closed ones with this close status")
      ->check(CLI::IsMember(
          {"COMPLETED", "FAILED", "CANCELED", "TERMINATED", "CONTINUED_AS_NEW", "TIMED_OUT"}))
      ->excludes(open);
  command->add_option("--since", args.since,
                      "Started since: 30s, 15m, 2h, 7d ago or epoch seconds");
  command->add_option("--until", args.until, "Started until: same forms as --since");
}

// The close event (the last one) of a closed run.
Result<Json> CloseEvent(Context& context, const std::string& id, const std::string& run) {
  ASSIGN_OR_RETURN(Json page, context.Call("GetWorkflowExecutionHistory",
                                           {{"domain", context.domain()},
                                            {"execution", {{"workflowId", id}, {"runId", run}}},
                                            {"maximumPageSize", 1},
                                            {"reverseOrder", true}}));
  if (page["events"].empty()) return Json::object();
  return page["events"][0];
}

const Json& Attributes(const Json& event) {
  static const Json kEmpty = Json::object();
  for (const auto& [key, value] : event.items()) {
    if (key.size() > 15 && key.compare(key.size() - 15, 15, "EventAttributes") == 0) return value;
  }
  return kEmpty;
}

// The close of a run as JSON: workflowId, runId, closeStatus and result /
// reason / details.
Json CloseSummary(const std::string& id, const std::string& run, const std::string& status,
                  const Json& close_event) {
  Json out = {{"workflowId", id}, {"runId", run}, {"closeStatus", status}};
  const Json& a = Attributes(close_event);
  if (a.contains("result")) out["result"] = Json::parse(Str(a, "result"), nullptr, false);
  if (out.contains("result") && out["result"].is_discarded()) out["result"] = Str(a, "result");
  for (const char* key : {"reason", "details", "timeoutType", "newExecutionRunId"}) {
    if (a.contains(key)) out[key] = Str(a, key);
  }
  return out;
}

int PrintClose(Context& context, const Json& summary) {
  const std::string status = summary.value("closeStatus", "");
  if (context.json()) {
    PrintJson(summary);
  } else {
    std::cout << summary.value("workflowId", "") << " (run " << summary.value("runId", "")
              << "): " << status << "\n";
    if (summary.contains("result")) std::cout << "result: " << summary["result"].dump() << "\n";
    if (summary.contains("reason"))
      std::cout << "reason: " << summary["reason"].get<std::string>() << "\n";
    if (summary.contains("details") && !summary["details"].get<std::string>().empty()) {
      std::cout << "details: " << summary["details"].get<std::string>() << "\n";
    }
    if (summary.contains("timeoutType"))
      std::cout << "timeout: " << summary["timeoutType"].get<std::string>() << "\n";
  }
  return status == "COMPLETED" || status == "CONTINUED_AS_NEW" ? kExitOk : kExitWorkflowFailed;
}

// Polls DescribeWorkflowExecution until the run closes, then reports it.
int WaitForClose(Context& context, const std::string& id, const std::string& run) {
  Backoff backoff;
  Json last_seen;
  const Json request = {{"domain", context.domain()},
                        {"execution", {{"workflowId", id}, {"runId", run}}}};
  for (;;) {
    auto d = context.Call("DescribeWorkflowExecution", request);
    if (!d.ok() && d.fault() == Fault::kThrottling) {  // still throttled after the retries
      backoff.Wait();
      continue;
    }
    if (!d.ok()) return context.exit_code();
    const Json& info = (*d)["executionInfo"];
    if (info.value("executionStatus", "") == "CLOSED") {
      auto close = CloseEvent(context, id, run);
      if (!close.ok()) return context.exit_code();
      return PrintClose(context, CloseSummary(id, run, info.value("closeStatus", ""), *close));
    }
    Json progress = {(*d)["openCounts"], d->value("latestActivityTaskTimestamp", Json())};
    if (progress != last_seen) backoff.Reset(), last_seen = progress;
    backoff.Wait();
  }
}

// The run to act on: --run, else the latest run of the workflow id.
Result<std::string> RunOf(Context& context, const WorkflowArgs& args) {
  if (!args.run.empty()) return args.run;
  return LatestRunId(context, args.id);
}

int FailedRun(Context& context, const Status& status) {
  return status.fault() == Fault::kUnknownResource ? kExitNotFound : context.exit_code();
}

// Gathers up to `limit` (all when negative) execution infos, newest first;
// `more` tells whether there were others.
Result<Json> ListExecutions(Context& context, std::string_view operation, Json request, long limit,
                            bool* more) {
  Json infos = Json::array();
  request["reverseOrder"] = true;
  for (;;) {
    const long wanted = limit < 0 ? 1000 : limit + 1 - static_cast<long>(infos.size());
    request["maximumPageSize"] = std::clamp(wanted, 1L, 1000L);
    ASSIGN_OR_RETURN(Json page, context.Call(operation, request));
    for (auto& info : page["executionInfos"]) infos.push_back(std::move(info));
    const std::string token = page.value("nextPageToken", "");
    if (token.empty() || (limit >= 0 && static_cast<long>(infos.size()) > limit)) break;
    request["nextPageToken"] = token;
  }
  *more = limit >= 0 && static_cast<long>(infos.size()) > limit;
  return infos;
}

std::string RandomSuffix() {
  std::random_device device;
  return fmt::format("{:08x}", device());
}

}  // namespace

// workflow_show.cc
int ShowWorkflow(Context& context, const std::string& id, const std::string& run, bool events,
                 bool follow);

void AddWorkflowCommands(CLI::App& app) {
  auto args = std::make_shared<WorkflowArgs>();
  CLI::App* workflow =
      app.add_subcommand("workflow", "List, inspect, start, signal and stop workflow executions");
  workflow->require_subcommand(1);
  workflow->footer(kWaitNote);

  // --- list ---
  CLI::App* list = workflow->add_subcommand("list", "List executions, newest first");
  AddListFilters(list, *args);
  list->add_option("--limit", args->limit, "Show this many at most")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  list->add_flag("--all", args->all, "Show them all (follows every page)");
  list->footer(
      "Examples:\n  garcon workflow list --open\n"
      "  garcon workflow list --closed --status FAILED --since 2h --limit 50\n"
      "  garcon workflow list --type country_flow@1 --json");
  SetAction(list, [args](Context& context) -> int {
    std::vector<std::pair<std::string, bool>> kinds;
    if (!args->closed && args->status.empty())
      kinds.emplace_back("ListOpenWorkflowExecutions", false);
    if (!args->open) kinds.emplace_back("ListClosedWorkflowExecutions", true);
    const long limit = args->all ? -1 : args->limit;
    Json infos = Json::array();
    bool more = false;
    for (const auto& [operation, closed] : kinds) {
      Json request = {{"domain", context.domain()}};
      const std::string error = AddFilters(*args, closed, request);
      if (!error.empty()) return std::cerr << "garcon workflow list: " << error << "\n", kExitUsage;
      bool some_more = false;
      auto got = ListExecutions(context, operation, request, limit, &some_more);
      if (!got.ok()) return context.exit_code();
      more = more || some_more;
      for (auto& info : *got) infos.push_back(std::move(info));
    }
    std::stable_sort(infos.begin(), infos.end(), [](const Json& a, const Json& b) {
      return a.value("startTimestamp", 0.0) > b.value("startTimestamp", 0.0);
    });
    if (limit >= 0 && static_cast<long>(infos.size()) > limit) {
      more = true;
      infos.erase(infos.begin() + limit, infos.end());
    }
    if (context.json()) {
      PrintJson(infos);
    } else {
      std::vector<std::vector<std::string>> rows;
      const double now =
          std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
              .count();
      for (const Json& info : infos) {
        const Json& type = info["workflowType"];
        const bool open = info.value("executionStatus", "") == "OPEN";
        std::string took = "-";
        if (!open && info["closeTimestamp"].is_number() && info["startTimestamp"].is_number()) {
          took = FormatDuration(info["closeTimestamp"].get<double>() -
                                info["startTimestamp"].get<double>());
        } else if (open && info["startTimestamp"].is_number()) {
          took = FormatDuration(now - info["startTimestamp"].get<double>()) + " so far";
        }
        rows.push_back({Str(info["execution"], "workflowId"), Str(info["execution"], "runId"),
                        Str(type, "name") + "@" + Str(type, "version"),
                        open ? "OPEN" : Str(info, "closeStatus"),
                        FormatTime(info.value("startTimestamp", Json())), took});
      }
      PrintTable({"WORKFLOW ID", "RUN ID", "TYPE", "STATUS", "STARTED", "TOOK"}, rows);
    }
    if (more) {
      std::cerr << "(more executions: raise --limit (" << args->limit << ") or use --all)\n";
    }
    return kExitOk;
  });

  // --- count ---
  CLI::App* count = workflow->add_subcommand("count", "Count open and closed executions");
  AddListFilters(count, *args);
  count->footer(
      "Examples:\n  garcon workflow count\n  garcon workflow count --closed --status FAILED "
      "--since 1d");
  SetAction(count, [args](Context& context) -> int {
    Json out = Json::object();
    for (const bool closed : {false, true}) {
      if ((closed && args->open) || (!closed && (args->closed || !args->status.empty()))) continue;
      Json request = {{"domain", context.domain()}};
      const std::string error = AddFilters(*args, closed, request);
      if (!error.empty())
        return std::cerr << "garcon workflow count: " << error << "\n", kExitUsage;
      auto c = context.Call(
          closed ? "CountClosedWorkflowExecutions" : "CountOpenWorkflowExecutions", request);
      if (!c.ok()) return context.exit_code();
      out[closed ? "closed" : "open"] = c->value("count", 0);
      if (c->value("truncated", false)) out["truncated"] = true;
    }
    if (context.json()) return PrintJson(out), kExitOk;
    for (const char* key : {"open", "closed"}) {
      if (out.contains(key))
        std::cout << key << ": " << out[key].get<long>() << (out.contains("truncated") ? "+" : "")
                  << "\n";
    }
    return kExitOk;
  });

  // --- describe ---
  CLI::App* describe =
      workflow->add_subcommand("describe", "Show one run: status, type, times, open tasks");
  describe->add_option("id", args->id, "The workflow id")->required();
  describe->add_option("--run", args->run,
                       "The run id (default: the latest run of that workflow id)");
  describe->footer("Example:\n  garcon workflow describe country_flow-1a2b3c4d");
  SetAction(describe, [args](Context& context) -> int {
    auto run = RunOf(context, *args);
    if (!run.ok()) return FailedRun(context, run.status());
    auto d = context.Call(
        "DescribeWorkflowExecution",
        {{"domain", context.domain()}, {"execution", {{"workflowId", args->id}, {"runId", *run}}}});
    if (!d.ok()) return context.exit_code();
    if (context.json()) return PrintJson(*d), kExitOk;
    const Json& info = (*d)["executionInfo"];
    const Json& config = (*d)["executionConfiguration"];
    const bool open = info.value("executionStatus", "") == "OPEN";
    std::vector<std::pair<std::string, std::string>> fields = {
        {"workflow id", args->id},
        {"run id", *run},
        {"type", Str(info["workflowType"], "name") + "@" + Str(info["workflowType"], "version")},
        {"status", open ? "OPEN" : "CLOSED " + Str(info, "closeStatus")},
        {"started", FormatTime(info.value("startTimestamp", Json()))}};
    if (!open) {
      fields.emplace_back("closed", FormatTime(info.value("closeTimestamp", Json())));
      if (info["closeTimestamp"].is_number() && info["startTimestamp"].is_number()) {
        fields.emplace_back("took", FormatDuration(info["closeTimestamp"].get<double>() -
                                                   info["startTimestamp"].get<double>()));
      }
    }
    fields.emplace_back("task list", Str(config["taskList"], "name"));
    if (info.contains("tagList")) {
      std::string tags;
      for (const Json& tag : info["tagList"])
        tags += (tags.empty() ? "" : ", ") + tag.get<std::string>();
      fields.emplace_back("tags", tags);
    }
    if (info.contains("parent")) {
      fields.emplace_back("parent", Str(info["parent"], "workflowId") + " (run " +
                                        Str(info["parent"], "runId") + ")");
    }
    if (info.value("cancelRequested", false)) fields.emplace_back("cancel requested", "yes");
    const Json& counts = (*d)["openCounts"];
    fields.emplace_back(
        "open",
        fmt::format("{} activity tasks, {} decision tasks, {} timers, {} child runs",
                    counts.value("openActivityTasks", 0), counts.value("openDecisionTasks", 0),
                    counts.value("openTimers", 0), counts.value("openChildWorkflowExecutions", 0)));
    if (d->contains("latestActivityTaskTimestamp")) {
      fields.emplace_back("last activity task", FormatTime((*d)["latestActivityTaskTimestamp"]));
    }
    fields.emplace_back("timeouts", "execution " + Str(config, "executionStartToCloseTimeout") +
                                        " s, decision task " +
                                        Str(config, "taskStartToCloseTimeout") + " s");
    std::size_t width = 0;
    for (const auto& field : fields) width = std::max(width, field.first.size());
    for (const auto& [name, value] : fields) {
      std::cout << name << ":" << std::string(width - name.size() + 1, ' ') << value << "\n";
    }
    return kExitOk;
  });

  // --- show ---
  CLI::App* show = workflow->add_subcommand("show", "Show a run's history, made readable");
  show->add_option("id", args->id, "The workflow id")->required();
  show->add_option("--run", args->run, "The run id (default: the latest run of that workflow id)");
  auto* events = show->add_flag("--events", args->events, "The raw event table instead");
  show->add_flag("--follow", args->follow,
                 "Print new events of an open run as they come, until it closes")
      ->excludes(events);
  show->footer(
      "One line per activity attempt (generator values, scheduled/started/closed times,\n"
      "duration, worker, result keys or failure reason), timer, signal, marker, child run\n"
      "and decision; the close status and result at the end. --json prints the whole raw\n"
      "history; with --follow, one JSON event per line.\n"
      "Examples:\n  garcon workflow show country_flow-1a2b3c4d\n"
      "  garcon workflow show country_flow-1a2b3c4d --events\n"
      "  garcon workflow show country_flow-1a2b3c4d --follow");
  SetAction(show, [args](Context& context) -> int {
    auto run = RunOf(context, *args);
    if (!run.ok()) return FailedRun(context, run.status());
    return ShowWorkflow(context, args->id, *run, args->events, args->follow);
  });

  // --- start ---
  CLI::App* start = workflow->add_subcommand("start", "Start an execution of a workflow type");
  start
      ->add_option("type", args->type,
                   "NAME or NAME@VERSION (default: the newest registered version)")
      ->required();
  start->add_option("--input", args->input, "The input, a JSON object")->capture_default_str();
  start->add_option("--id", args->id, "The workflow id (default: NAME-RANDOM)");
  start->add_option("--task-list", args->task_list, "The decision task list (default: the type's)");
  start->add_option("--tag", args->tags, "A tag (up to 5)");
  start->add_flag("--wait", args->wait,
                  "Wait for the close and report it (exit 1 unless it completed)");
  start->footer(
      std::string(
          "Example:\n  garcon workflow start country_flow --input '{\"user\": 3}' --wait\n") +
      kWaitNote);
  SetAction(start, [args](Context& context) -> int {
    Json input = args->input.empty() ? Json::object() : Json::parse(args->input, nullptr, false);
    if (input.is_discarded()) {
      std::cerr << "garcon workflow start: --input is not JSON: " << args->input << "\n";
      return kExitUsage;
    }
    auto [name, version] = SplitType(args->type);
    if (version.empty()) {
      auto types = context.Call("ListWorkflowTypes", {{"domain", context.domain()},
                                                      {"name", name},
                                                      {"registrationStatus", "REGISTERED"},
                                                      {"maximumPageSize", 1000}});
      if (!types.ok()) return context.exit_code();
      double newest = -1;
      for (const Json& t : (*types)["typeInfos"]) {
        if (t.value("creationDate", 0.0) > newest) {
          newest = t.value("creationDate", 0.0);
          version = Str(t["workflowType"], "version");
        }
      }
      if (version.empty()) {
        std::cerr << "garcon workflow start: no registered workflow type " << name << " in domain "
                  << context.domain() << "\n";
        return kExitNotFound;
      }
    }
    const std::string id = args->id.empty() ? name + "-" + RandomSuffix() : args->id;
    Json request = {{"domain", context.domain()},
                    {"workflowId", id},
                    {"workflowType", {{"name", name}, {"version", version}}},
                    {"input", input.dump()}};
    if (!args->task_list.empty()) request["taskList"] = {{"name", args->task_list}};
    if (!args->tags.empty()) request["tagList"] = args->tags;
    auto started = context.Call("StartWorkflowExecution", request);
    if (!started.ok()) return context.exit_code();
    const std::string run = started->value("runId", "");
    if (!args->wait) {
      if (context.json()) return PrintJson({{"workflowId", id}, {"runId", run}}), kExitOk;
      std::cout << id << " started (run " << run << ")\n";
      return kExitOk;
    }
    if (!context.json())
      std::cerr << id << " started (run " << run << "), waiting for it to close\n";
    return WaitForClose(context, id, run);
  });

  // --- signal ---
  CLI::App* signal = workflow->add_subcommand("signal", "Send a signal to a run");
  signal->add_option("id", args->id, "The workflow id")->required();
  signal->add_option("name", args->signal, "The signal's name")->required();
  signal->add_option("--input", args->input, "What the signal carries");
  signal->add_option("--run", args->run, "The run id (default: the open run)");
  signal->footer(
      "Example:\n  garcon workflow signal order_flow-1a2b3c4d approved --input '{\"by\": "
      "\"ana\"}'");
  SetAction(signal, [args](Context& context) -> int {
    Json request = {
        {"domain", context.domain()}, {"workflowId", args->id}, {"signalName", args->signal}};
    if (!args->run.empty()) request["runId"] = args->run;
    if (!args->input.empty()) request["input"] = args->input;
    if (!context.Call("SignalWorkflowExecution", request).ok()) return context.exit_code();
    if (context.json())
      return PrintJson({{"workflowId", args->id}, {"signalName", args->signal}}), kExitOk;
    std::cout << "signal " << args->signal << " sent to " << args->id << "\n";
    return kExitOk;
  });

  // --- cancel ---
  CLI::App* cancel =
      workflow->add_subcommand("cancel", "Ask a run to cancel (its decider decides how)");
  cancel->add_option("id", args->id, "The workflow id")->required();
  cancel->add_option("--run", args->run, "The run id (default: the open run)");
  cancel->footer(
      "Example:\n  garcon workflow cancel order_flow-1a2b3c4d && garcon workflow wait "
      "order_flow-1a2b3c4d");
  SetAction(cancel, [args](Context& context) -> int {
    Json request = {{"domain", context.domain()}, {"workflowId", args->id}};
    if (!args->run.empty()) request["runId"] = args->run;
    if (!context.Call("RequestCancelWorkflowExecution", request).ok()) return context.exit_code();
    if (context.json())
      return PrintJson({{"workflowId", args->id}, {"cancelRequested", true}}), kExitOk;
    std::cout << "cancel requested for " << args->id << "\n";
    return kExitOk;
  });

  // --- terminate ---
  CLI::App* terminate = workflow->add_subcommand("terminate", "End a run now, without its decider");
  terminate->add_option("id", args->id, "The workflow id")->required();
  terminate->add_option("--reason", args->reason, "Why (recorded in the history)")->required();
  terminate->add_option("--details", args->details, "More about why");
  terminate->add_option("--run", args->run, "The run id (default: the open run)");
  terminate->footer(
      "Example:\n  garcon workflow terminate order_flow-1a2b3c4d --reason 'wrong input'");
  SetAction(terminate, [args](Context& context) -> int {
    Json request = {
        {"domain", context.domain()}, {"workflowId", args->id}, {"reason", args->reason}};
    if (!args->run.empty()) request["runId"] = args->run;
    if (!args->details.empty()) request["details"] = args->details;
    if (!context.Call("TerminateWorkflowExecution", request).ok()) return context.exit_code();
    if (context.json())
      return PrintJson({{"workflowId", args->id}, {"closeStatus", "TERMINATED"}}), kExitOk;
    std::cout << args->id << " terminated\n";
    return kExitOk;
  });

  // --- wait ---
  CLI::App* wait =
      workflow->add_subcommand("wait", "Wait for a run to close and report how it ended");
  wait->add_option("id", args->id, "The workflow id")->required();
  wait->add_option("--run", args->run, "The run id (default: the latest run of that workflow id)");
  wait->footer(
      std::string(
          "Example (reattach after Ctrl-C):\n  garcon workflow wait country_flow-1a2b3c4d\n") +
      kWaitNote);
  SetAction(wait, [args](Context& context) -> int {
    auto run = RunOf(context, *args);
    if (!run.ok()) return FailedRun(context, run.status());
    return WaitForClose(context, args->id, *run);
  });
}

}  // namespace garcon::tools
