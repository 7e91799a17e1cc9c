// A flow's shape: Flow::Graph() as JSON, and that JSON drawn as Mermaid or
// DOT (from the JSON only, so that a run's recorded graph can be drawn
// without the flow's code).
#include <cctype>
#include <string>

#include "garcon/flow.h"

namespace garcon {
namespace {

const char* RunnerName(const Runner& runner) {
  switch (runner.kind()) {
    case Runner::Kind::kSync:
      return "sync";
    case Runner::Kind::kAsync:
      return "async";
    case Runner::Kind::kExternal:
      return "external";
    case Runner::Kind::kChild:
      return "child";
  }
  return "sync";
}

// What a node says under its name: runner, generators, retries...
std::string Notes(const Json& a) {
  std::string notes = a.value("runner", "sync");
  if (a.contains("child")) notes += " " + a.value("child", "");
  if (a.value("generators", 0) > 0) notes += ", generator";
  if (a.value("retries", 0) > 0) notes += ", retry " + std::to_string(a.value("retries", 0));
  if (a.contains("backoff")) notes += " (backoff " + std::to_string(a.value("backoff", 0)) + " s)";
  if (a.contains("allowFailures")) notes += ", may fail";
  if (a.contains("maxConcurrent")) notes += ", max " + std::to_string(a.value("maxConcurrent", 0));
  if (a.contains("after")) notes += ", after " + std::to_string(a.value("after", 0)) + " s";
  if (a.contains("signal")) notes += ", awaits " + a.value("signal", "");
  return notes;
}

// An identifier safe in both languages.
std::string NodeId(const std::string& name) {
  std::string id = "a_";
  for (char c : name) {
    id += (std::isalnum(static_cast<unsigned char>(c)) != 0) ? c : '_';
  }
  return id;
}

std::string Escaped(const std::string& text, bool dot) {
  std::string out;
  for (char c : text) {
    if (c == '"') {
      out += dot ? "\\\"" : "#quot;";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

Json Flow::Graph() const {
  Json activities = Json::array();
  for (const auto& a : activities_) {
    Json node = {{"name", a->short_name()}, {"runner", RunnerName(a->runner())}};
    Json requires_list = Json::array();
    for (const garcon::Activity* r : a->requires_activities()) requires_list.push_back(r->short_name());
    node["requires"] = std::move(requires_list);
    if (const Flow* child = a->runner().child_flow()) node["child"] = child->task_list();
    if (a->generator_count() > 0) node["generators"] = a->generator_count();
    if (a->retry() > 0) node["retries"] = a->retry();
    if (a->retry_policy().initial_interval.count() > 0) {
      node["backoff"] = a->retry_policy().initial_interval.count();
    }
    if (a->allowed_failure_count()) {
      if (*a->allowed_failure_count() > 0) node["allowFailures"] = *a->allowed_failure_count();
    } else if (a->allowed_failure_fraction() > 0) {
      node["allowFailures"] = a->allowed_failure_fraction();
    }
    if (a->max_concurrent() > 0) node["maxConcurrent"] = a->max_concurrent();
    if (a->delay().count() > 0) node["after"] = a->delay().count();
    if (!a->awaited_signal().empty()) node["signal"] = a->awaited_signal();
    activities.push_back(std::move(node));
  }
  return {{"flow", name_}, {"version", version_}, {"activities", std::move(activities)}};
}

std::string GraphMermaid(const Json& graph) {
  std::string out = "flowchart LR\n";
  const Json& activities = graph.value("activities", Json::array());
  for (const Json& a : activities) {
    const std::string name = a.value("name", "");
    out += "  " + NodeId(name) + "[\"" + Escaped(name, false) + "<br/><small>" +
           Escaped(Notes(a), false) + "</small>\"]\n";
  }
  for (const Json& a : activities) {
    for (const Json& r : a.value("requires", Json::array())) {
      out += "  " + NodeId(r.get<std::string>()) + " --> " + NodeId(a.value("name", "")) + "\n";
    }
  }
  return out;
}

std::string GraphDot(const Json& graph) {
  std::string out = "digraph \"" + Escaped(graph.value("flow", "flow"), true) + "\" {\n";
  out += "  rankdir=LR;\n  node [shape=box];\n";
  const Json& activities = graph.value("activities", Json::array());
  for (const Json& a : activities) {
    const std::string name = a.value("name", "");
    out += "  " + NodeId(name) + " [label=\"" + Escaped(name, true) + "\\n" +
           Escaped(Notes(a), true) + "\"];\n";
  }
  for (const Json& a : activities) {
    for (const Json& r : a.value("requires", Json::array())) {
      out += "  " + NodeId(r.get<std::string>()) + " -> " + NodeId(a.value("name", "")) + ";\n";
    }
  }
  return out + "}\n";
}

}  // namespace garcon
