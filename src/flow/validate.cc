// Flow::Validate: the declaration mistakes a flow program reports from its
// commands (an error message and exit code 2) rather than by an exception
// escaping its main.
#include <algorithm>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "garcon/flow.h"

namespace garcon {
namespace {

// Finds a cycle of requirements through `activity` by depth-first search;
// fills `path` with it (first == last) and returns true when there is one.
bool FindCycle(const Activity* activity, std::map<const Activity*, int>& state,
               std::vector<const Activity*>& path) {
  state[activity] = 1;  // on the current path
  path.push_back(activity);
  for (const Activity* required : activity->requires_activities()) {
    if (required == activity || &required->flow() != &activity->flow()) continue;
    const int seen = state[required];
    if (seen == 1) {
      path.erase(path.begin(), std::find(path.begin(), path.end(), required));
      path.push_back(required);
      return true;
    }
    if (seen == 0 && FindCycle(required, state, path)) return true;
  }
  path.pop_back();
  state[activity] = 2;  // done: no cycle through it
  return false;
}

}  // namespace

Status Flow::Validate() const {
  std::vector<std::string> errors;
  std::map<std::string, int> names;
  for (const auto& activity : activities_) {
    if (++names[activity->short_name()] == 2) {
      errors.push_back("activity '" + activity->short_name() +
                       "' is declared twice: each activity of a flow has its own name");
    }
  }
  for (const auto& activity : activities_) {
    const std::string& name = activity->short_name();
    for (const garcon::Activity* required : activity->requires_activities()) {
      if (required == activity.get()) {
        errors.push_back("activity '" + name +
                         "' requires itself: remove it from its own Requires({...})");
      } else if (&required->flow() != this) {
        errors.push_back("activity '" + name + "' requires '" + required->short_name() +
                         "' of another flow (" + required->flow().name() +
                         "): an activity requires activities of its own flow");
      }
    }
    int index = 0;
    for (const TaskItem& item : activity->runner().items()) {
      ++index;
      const Task* task = std::get_if<Task>(&item);
      if (task != nullptr && !task->misuse().empty()) {
        errors.push_back("activity '" + name + "', task " + std::to_string(index) + ": " +
                         task->misuse());
      }
    }
  }
  std::map<const garcon::Activity*, int> state;
  for (const auto& activity : activities_) {
    std::vector<const garcon::Activity*> path;
    if (state[activity.get()] == 0 && FindCycle(activity.get(), state, path)) {
      std::string cycle;
      for (const garcon::Activity* a : path)
        cycle += (cycle.empty() ? "" : " -> ") + a->short_name();
      errors.push_back("circular requirements (" + cycle +
                       "): none of them could ever start; remove one of these Requires");
      break;
    }
  }
  if (errors.empty()) return Status::Ok();
  std::string message = "flow " + name_ + " is not valid: ";
  for (std::size_t i = 0; i < errors.size(); ++i) message += (i ? "; " : "") + errors[i];
  return ValidationError(message);
}

}  // namespace garcon
