#include "garcon/flow.h"

#include <algorithm>
#include <stdexcept>

namespace garcon {

Flow::Flow(std::string domain, std::string name, std::string version)
    : domain_(std::move(domain)),
      name_(std::move(name)),
      version_(std::move(version)),
      task_list_(name_ + "@" + version_) {
  if (domain_.empty() || name_.empty() || version_.empty()) {
    throw DeclarationError("Flow: domain, name and version must not be empty");
  }
}

garcon::Activity& Flow::Activity(std::string name) {
  if (name.empty()) throw DeclarationError("Activity: name must not be empty");
  // A name declared twice is reported by Validate.
  activities_.push_back(std::make_unique<garcon::Activity>(this, std::move(name)));
  return *activities_.back();
}

Flow& Flow::Decider(CustomDecider decider) {
  decider_ = std::move(decider);
  return *this;
}

Flow& Flow::OnException(ExceptionHandler handler) {
  on_exception_ = std::move(handler);
  return *this;
}

Flow& Flow::ExecutionTimeout(int seconds) {
  if (seconds <= 0 || seconds > 365 * 24 * 3600) {
    throw DeclarationError("ExecutionTimeout: 1 second to 1 year");
  }
  execution_timeout_ = seconds;
  return *this;
}

Flow& Flow::DecisionTimeout(int seconds) {
  if (seconds <= 0) throw DeclarationError("DecisionTimeout: must be > 0 seconds");
  decision_timeout_ = seconds;
  return *this;
}

Flow& Flow::RetentionDays(int days) {
  if (days < 0 || days > 90) throw DeclarationError("RetentionDays: 0 to 90");
  retention_days_ = days;
  return *this;
}

std::vector<const Flow*> Flow::ChildFlows() const {
  std::vector<const Flow*> out;
  std::vector<const Flow*> todo{this};
  while (!todo.empty()) {
    const Flow* flow = todo.back();
    todo.pop_back();
    for (const auto& a : flow->activities()) {
      const Flow* child = a->runner().child_flow();
      if (child == nullptr || child == this) continue;
      if (std::find(out.begin(), out.end(), child) != out.end()) continue;
      out.push_back(child);
      todo.push_back(child);
    }
  }
  return out;
}

const garcon::Activity* Flow::FindActivity(std::string_view name) const {
  for (const auto& a : activities_) {
    if (a->name() == name || a->short_name() == name) return a.get();
  }
  return nullptr;
}

}  // namespace garcon
