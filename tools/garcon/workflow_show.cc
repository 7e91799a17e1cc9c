// `garcon workflow show`: a run's history made readable, the raw event
// table (--events), the raw history (--json) or a live stream (--follow).
#include <fmt/format.h>

#include <algorithm>
#include <ctime>
#include <iostream>
#include <map>

#include "commands.h"
#include "base/status_macros.h"

namespace garcon::tools {
namespace {

const Json& Attrs(const Json& event) {
  static const Json kEmpty = Json::object();
  for (const auto& [key, value] : event.items()) {
    if (key.size() > 15 && key.compare(key.size() - 15, 15, "EventAttributes") == 0) return value;
  }
  return kEmpty;
}

double Time(const Json& event) { return event.value("eventTimestamp", 0.0); }

std::string Clock(double t) {
  if (t <= 0) return "-";
  const auto seconds = static_cast<std::time_t>(t);
  std::tm tm{};
  localtime_r(&seconds, &tm);
  char buffer[16];
  std::strftime(buffer, sizeof buffer, "%H:%M:%S", &tm);
  return buffer;
}

std::string Truncate(std::string text, std::size_t size = 100) {
  for (char& c : text) {
    if (c == '\n') c = ' ';
  }
  if (text.size() > size) text = text.substr(0, size - 3) + "...";
  return text;
}

// "{flow}_{activity}-{sha1}" shortened to 8 hex digits.
std::string ShortId(const std::string& id) {
  const auto dash = id.rfind('-');
  if (dash != std::string::npos && id.size() - dash - 1 == 40) return id.substr(0, dash + 9);
  return id;
}

// generator.* keys of an activity's input as "key=value, ...".
std::string GeneratorValues(const std::string& input) {
  const Json context = Json::parse(input, nullptr, false);
  if (!context.is_object()) return "";
  std::string out;
  for (const auto& [key, value] : context.items()) {
    if (key.rfind("generator.", 0) != 0) continue;
    out += (out.empty() ? "" : ", ") + key + "=" +
           (value.is_string() ? value.get<std::string>() : value.dump());
  }
  return out;
}

std::string ResultKeys(const std::string& result) {
  const Json value = Json::parse(result, nullptr, false);
  if (!value.is_object()) return Truncate(result, 60);
  std::string keys;
  for (const auto& [key, v] : value.items()) keys += (keys.empty() ? "" : ", ") + key;
  return keys.empty() ? "(no keys)" : keys;
}

// One row of the readable view.
struct Row {
  std::string what, id, attempt, values;
  double scheduled = 0, started = 0, closed = 0;
  std::string worker, outcome;
};

std::string CloseStatusOf(const std::string& type) {
  static const std::map<std::string, std::string> kStatus = {
      {"WorkflowExecutionCompleted", "COMPLETED"},
      {"WorkflowExecutionFailed", "FAILED"},
      {"WorkflowExecutionTimedOut", "TIMED_OUT"},
      {"WorkflowExecutionCanceled", "CANCELED"},
      {"WorkflowExecutionTerminated", "TERMINATED"},
      {"WorkflowExecutionContinuedAsNew", "CONTINUED_AS_NEW"}};
  auto it = kStatus.find(type);
  return it == kStatus.end() ? "" : it->second;
}

// The close of the run, as the last lines of show; the exit code.
int PrintCloseLines(const Json& events) {
  const Json& last = events.empty() ? Json::object() : events.back();
  const std::string status = CloseStatusOf(last.value("eventType", ""));
  if (status.empty()) {
    std::cout << "\nstill OPEN\n";
    return kExitOk;
  }
  const double took = Time(last) - (events.empty() ? 0 : Time(events.front()));
  std::cout << "\n"
            << status << " at " << FormatTime(last["eventTimestamp"]) << " after "
            << FormatDuration(took) << "\n";
  const Json& a = Attrs(last);
  for (const char* key : {"result", "reason", "details", "timeoutType", "newExecutionRunId"}) {
    if (a.contains(key)) std::cout << key << ": " << Str(a, key) << "\n";
  }
  return status == "COMPLETED" || status == "CONTINUED_AS_NEW" ? kExitOk : kExitWorkflowFailed;
}

void PrintReadable(const Json& events) {
  std::vector<Row> rows;
  std::map<long, std::size_t> activity_rows;  // scheduled event id -> row
  std::map<std::string, std::size_t> timer_rows;
  std::map<long, std::size_t> child_rows;  // initiated event id -> row
  std::map<std::string, int> attempts;
  std::map<long, std::pair<double, std::string>>
      decision_starts;  // started event -> time, identity
  // The decisions of each decision task: the events naming it.
  std::map<long, std::map<std::string, int>> decisions;
  for (const Json& e : events) {
    const Json& a = Attrs(e);
    auto it = a.find("decisionTaskCompletedEventId");
    if (it != a.end() && it->is_number()) ++decisions[it->get<long>()][e.value("eventType", "")];
  }
  for (const Json& e : events) {
    const std::string type = e.value("eventType", "");
    const Json& a = Attrs(e);
    const long id = e.value("eventId", 0L);
    if (type == "WorkflowExecutionStarted") {
      std::cout << "type " << Str(a["workflowType"], "name") << "@"
                << Str(a["workflowType"], "version") << ", task list " << Str(a["taskList"], "name")
                << ", started " << FormatTime(e["eventTimestamp"])
                << "\ninput: " << Truncate(Str(a, "input"), 200) << "\n\n";
    } else if (type == "ActivityTaskScheduled") {
      const std::string activity_id = Str(a, "activityId");
      activity_rows[id] = rows.size();
      rows.push_back({"activity", ShortId(activity_id),
                      "#" + std::to_string(++attempts[activity_id]),
                      GeneratorValues(Str(a, "input")), Time(e), 0, 0, "", "scheduled"});
    } else if (type == "ActivityTaskStarted") {
      auto it = activity_rows.find(a.value("scheduledEventId", 0L));
      if (it != activity_rows.end()) {
        rows[it->second].started = Time(e);
        rows[it->second].worker = Str(a, "identity");
        rows[it->second].outcome = "running";
      }
    } else if (type.rfind("ActivityTask", 0) == 0 && a.contains("scheduledEventId") &&
               type != "ActivityTaskCancelRequested") {
      auto it = activity_rows.find(a.value("scheduledEventId", 0L));
      if (it == activity_rows.end()) continue;
      Row& row = rows[it->second];
      row.closed = Time(e);
      if (type == "ActivityTaskCompleted")
        row.outcome = "completed: " + ResultKeys(Str(a, "result"));
      if (type == "ActivityTaskFailed") row.outcome = "failed: " + Truncate(Str(a, "reason"));
      if (type == "ActivityTaskTimedOut") row.outcome = "timed out (" + Str(a, "timeoutType") + ")";
      if (type == "ActivityTaskCanceled") row.outcome = "canceled";
    } else if (type == "ScheduleActivityTaskFailed") {
      rows.push_back({"activity", ShortId(Str(a, "activityId")), "", "", Time(e), 0, 0, "",
                      "could not schedule: " + Str(a, "cause")});
    } else if (type == "TimerStarted") {
      timer_rows[Str(a, "timerId")] = rows.size();
      rows.push_back({"timer", Str(a, "timerId"), "", Str(a, "startToFireTimeout") + " s", Time(e),
                      Time(e), 0, "", "waiting"});
    } else if (type == "TimerFired" || type == "TimerCanceled") {
      auto it = timer_rows.find(Str(a, "timerId"));
      if (it == timer_rows.end()) continue;
      rows[it->second].closed = Time(e);
      rows[it->second].outcome = type == "TimerFired" ? "fired" : "canceled";
    } else if (type == "WorkflowExecutionSignaled") {
      rows.push_back({"signal", Str(a, "signalName"), "", Truncate(Str(a, "input"), 60), Time(e), 0,
                      0, Str(a, "externalInitiatedEventId").empty() ? "" : "workflow", "received"});
    } else if (type == "MarkerRecorded") {
      rows.push_back({"marker", Str(a, "markerName"), "", Truncate(Str(a, "details"), 60), Time(e),
                      0, 0, "", "recorded"});
    } else if (type == "StartChildWorkflowExecutionInitiated") {
      child_rows[id] = rows.size();
      rows.push_back({"child", Str(a, "workflowId"), "", "for " + ShortId(Str(a, "control")),
                      Time(e), 0, 0, "", "starting"});
    } else if (type.rfind("ChildWorkflowExecution", 0) == 0 ||
               type == "StartChildWorkflowExecutionFailed") {
      auto it = child_rows.find(a.value("initiatedEventId", 0L));
      if (it == child_rows.end()) continue;
      Row& row = rows[it->second];
      const std::string what = type.substr(type.rfind("Execution") + 9);
      if (what == "Started") {
        row.started = Time(e);
        row.worker = "run " + Str(a["workflowExecution"], "runId");
        row.outcome = "running";
      } else {
        row.closed = Time(e);
        row.outcome = type == "StartChildWorkflowExecutionFailed"
                          ? "could not start: " + Str(a, "cause")
                      : what == "Completed" ? "completed: " + ResultKeys(Str(a, "result"))
                      : what == "Failed"    ? "failed: " + Truncate(Str(a, "reason"))
                                            : fmt::format("{}", what);
      }
    } else if (type == "DecisionTaskStarted") {
      decision_starts[id] = {Time(e), Str(a, "identity")};
    } else if (type == "DecisionTaskCompleted") {
      std::string summary;
      for (const auto& [kind, n] : decisions[id])
        summary += (summary.empty() ? "" : ", ") + fmt::format("{} {}", n, kind);
      const auto& [started, identity] = decision_starts[a.value("startedEventId", 0L)];
      rows.push_back({"decision", "", "", "", 0, started, Time(e), identity,
                      summary.empty() ? "no decisions" : summary});
    } else if (type == "DecisionTaskTimedOut") {
      rows.push_back(
          {"decision", "", "", "", 0, 0, Time(e), "", "timed out (" + Str(a, "timeoutType") + ")"});
    } else if (type == "WorkflowExecutionCancelRequested") {
      rows.push_back({"cancel", "", "", Str(a, "cause"), Time(e), 0, 0, "", "requested"});
    }
  }
  std::vector<std::vector<std::string>> table;
  for (const Row& r : rows) {
    const double from = r.started > 0 ? r.started : r.scheduled;
    table.push_back(
        {r.what, r.id, r.attempt, r.values, Clock(r.scheduled), Clock(r.started), Clock(r.closed),
         r.closed > 0 && from > 0 ? FormatDuration(r.closed - from) : "-", r.worker, r.outcome});
  }
  PrintTable({"WHAT", "ID", "TRY", "VALUES", "SCHEDULED", "STARTED", "CLOSED", "TOOK", "WORKER",
              "OUTCOME"},
             table);
}

// The flow's DAG, from the garcon.graph marker its decider recorded at the
// first decision: one line per activity in the flow's order, with what it
// requires, how it runs, and how far its instances got in this run. Nothing
// when the run was not decided by a Garcon flow.
void PrintGraph(const Json& events) {
  Json graph;
  for (const Json& e : events) {
    if (e.value("eventType", "") != "MarkerRecorded") continue;
    const Json& a = Attrs(e);
    if (a.value("markerName", "") != "garcon.graph") continue;
    graph = Json::parse(a.value("details", std::string()), nullptr, false);
    break;
  }
  if (!graph.is_object() || !graph.contains("activities")) return;
  const std::string flow = graph.value("flow", "");
  // Per activity (short name): each instance's last state, attempts.
  struct Progress {
    std::map<std::string, std::string> instances;  // activity or child workflow id -> state
    int attempts = 0;
  };
  std::map<std::string, Progress> progress;
  std::map<long, std::pair<std::string, std::string>> scheduled;  // event id -> (activity, id)
  auto activity_of = [&](const std::string& type_or_id) -> std::string {
    const std::string prefix = flow + "_";
    const auto at = type_or_id.find(prefix);
    if (at == std::string::npos) return "";
    std::string rest = type_or_id.substr(at + prefix.size());
    return rest.substr(0, rest.find('-'));
  };
  for (const Json& e : events) {
    const std::string type = e.value("eventType", "");
    const Json& a = Attrs(e);
    const long id = e.value("eventId", 0L);
    if (type == "ActivityTaskScheduled" || type == "StartChildWorkflowExecutionInitiated") {
      const std::string key = type == "ActivityTaskScheduled" ? Str(a, "activityId")
                                                              : Str(a, "workflowId");
      const std::string activity =
          type == "ActivityTaskScheduled"
              ? activity_of(a.value("activityType", Json::object()).value("name", ""))
              : activity_of(key.substr(key.rfind('.') == std::string::npos ? 0 : key.rfind('.')));
      if (activity.empty()) continue;
      scheduled[id] = {activity, key};
      progress[activity].instances[key] = "scheduled";
      ++progress[activity].attempts;
      continue;
    }
    const long ref = a.value("scheduledEventId", a.value("initiatedEventId", 0L));
    auto it = scheduled.find(ref);
    if (it == scheduled.end()) continue;
    std::string state;
    if (type == "ActivityTaskStarted" || type == "ChildWorkflowExecutionStarted") state = "running";
    if (type.ends_with("Completed")) state = "completed";
    if (type.ends_with("Failed")) state = "failed";
    if (type.ends_with("TimedOut")) state = "timed out";
    if (type.ends_with("Canceled") || type.ends_with("Terminated")) state = "canceled";
    if (!state.empty()) progress[it->second.first].instances[it->second.second] = state;
  }
  std::cout << "\ngraph of " << flow << "@" << graph.value("version", "") << "\n";
  std::vector<std::vector<std::string>> table;
  for (const Json& node : graph["activities"]) {
    const std::string name = node.value("name", "");
    std::string requires_text;
    for (const Json& r : node.value("requires", Json::array())) {
      requires_text += (requires_text.empty() ? "" : ", ") + r.get<std::string>();
    }
    std::string state = "not started";
    auto p = progress.find(name);
    if (p != progress.end() && !p->second.instances.empty()) {
      std::map<std::string, int> counts;
      for (const auto& instance : p->second.instances) ++counts[instance.second];
      state.clear();
      for (const auto& [what, n] : counts) {
        state += (state.empty() ? "" : ", ") + std::to_string(n) + " " + what;
      }
      state += fmt::format(" ({} attempt{})", p->second.attempts, p->second.attempts == 1 ? "" : "s");
    }
    std::string runner = node.value("runner", "sync");
    if (node.value("generators", 0) > 0) runner += ", generator";
    if (node.value("retries", 0) > 0) runner += ", retry " + std::to_string(node.value("retries", 0));
    if (node.contains("signal")) runner += ", awaits " + node.value("signal", "");
    if (node.contains("after")) runner += ", after " + std::to_string(node.value("after", 0)) + " s";
    table.push_back({name, requires_text.empty() ? "-" : requires_text, runner, state});
  }
  PrintTable({"ACTIVITY", "REQUIRES", "RUNS", "INSTANCES"}, table);
}

std::vector<std::string> EventRow(const Json& e) {
  return {std::to_string(e.value("eventId", 0L)), FormatTime(e["eventTimestamp"]),
          e.value("eventType", ""), Truncate(Attrs(e).dump(), 120)};
}

Result<Json> FetchEvents(Context& context, const std::string& id, const std::string& run) {
  Json events = Json::array();
  Json request = {{"domain", context.domain()},
                  {"execution", {{"workflowId", id}, {"runId", run}}},
                  {"maximumPageSize", 1000}};
  for (;;) {
    ASSIGN_OR_RETURN(Json page, context.Call("GetWorkflowExecutionHistory", request));
    for (auto& e : page["events"]) events.push_back(std::move(e));
    const std::string token = page.value("nextPageToken", "");
    if (token.empty()) return events;
    request["nextPageToken"] = token;
  }
}

// The events after `last_id`, oldest first: newest-first pages are read
// only as far back as `last_id`, so following a long run stays cheap.
Result<Json> FetchNewerEvents(Context& context, const std::string& id, const std::string& run,
                              long last_id) {
  Json newer = Json::array();
  Json request = {{"domain", context.domain()},
                  {"execution", {{"workflowId", id}, {"runId", run}}},
                  {"maximumPageSize", 100},
                  {"reverseOrder", true}};
  for (;;) {
    ASSIGN_OR_RETURN(Json page, context.Call("GetWorkflowExecutionHistory", request));
    for (auto& e : page["events"]) {
      if (e.value("eventId", 0L) <= last_id) {
        std::reverse(newer.begin(), newer.end());
        return newer;
      }
      newer.push_back(std::move(e));
    }
    const std::string token = page.value("nextPageToken", "");
    if (token.empty()) break;
    request["nextPageToken"] = token;
  }
  std::reverse(newer.begin(), newer.end());
  return newer;
}

}  // namespace

int ShowWorkflow(Context& context, const std::string& id, const std::string& run, bool raw_events,
                 bool follow) {
  auto events = FetchEvents(context, id, run);
  if (!events.ok()) return context.exit_code();
  if (!follow) {
    if (context.json()) return PrintJson({{"events", *events}}), kExitOk;
    std::cout << "workflow " << id << " (run " << run << ")\n";
    if (raw_events) {
      std::vector<std::vector<std::string>> rows;
      for (const Json& e : *events) rows.push_back(EventRow(e));
      PrintTable({"ID", "TIME", "TYPE", "ATTRIBUTES"}, rows);
      return kExitOk;
    }
    PrintReadable(*events);
    PrintGraph(*events);
    PrintCloseLines(*events);
    return kExitOk;
  }
  // --follow: print events as they come, one line each, until the close.
  std::size_t printed = 0;
  Backoff backoff;
  for (;;) {
    for (; printed < events->size(); ++printed) {
      const Json& e = (*events)[printed];
      if (context.json()) {
        PrintJson(e);
      } else {
        const auto row = EventRow(e);
        std::cout << fmt::format("{:>5}  {}  {:<40}  {}", row[0], row[1], row[2], row[3])
                  << std::endl;
      }
      backoff.Reset();
    }
    const std::string last = events->empty() ? "" : events->back().value("eventType", "");
    if (!CloseStatusOf(last).empty()) {
      if (context.json()) {
        const std::string status = CloseStatusOf(last);
        return status == "COMPLETED" || status == "CONTINUED_AS_NEW" ? kExitOk
                                                                     : kExitWorkflowFailed;
      }
      return PrintCloseLines(*events);
    }
    backoff.Wait();
    auto newer = FetchNewerEvents(context, id, run,
                                  events->empty() ? 0 : events->back().value("eventId", 0L));
    if (!newer.ok() && newer.fault() == Fault::kThrottling) continue;  // wait longer
    if (!newer.ok()) return context.exit_code();
    for (auto& e : *newer) events->push_back(std::move(e));
  }
}

}  // namespace garcon::tools
