#include "garcon/task.h"

#include <stdexcept>

namespace garcon {

Task& Task::FillParams(std::vector<Param> params) {
  // Recorded, not thrown: Flow::Validate reports it when the flow program
  // runs, instead of an exception escaping the program's main.
  if (arity_ < 0) {
    misuse_ = "Fill: this task reads the whole context; use Reads() to declare its keys";
    return *this;
  }
  if (static_cast<int>(params.size()) != arity_) {
    misuse_ = "Fill: the task takes " + std::to_string(arity_) +
              " parameters after ActivityExecution&, " + std::to_string(params.size()) +
              " given";
    return *this;
  }
  misuse_.clear();
  params_ = std::move(params);
  filled_ = true;
  return *this;
}

Task& Task::Namespace(std::string ns) {
  namespace_ = std::move(ns);
  return *this;
}

Task& Task::Timeout(int seconds, std::optional<int> heartbeat) {
  if (seconds < 0 || (heartbeat && *heartbeat < 0)) {
    throw DeclarationError("Timeout: seconds must be >= 0");
  }
  timeout_ = seconds;
  heartbeat_ = heartbeat ? heartbeat : std::optional<int>(seconds);
  return *this;
}

Task& Task::Reads(std::vector<std::string> keys) {
  reads_ = std::move(keys);
  return *this;
}

std::optional<std::vector<std::string>> Task::Requirements() const {
  if (arity_ < 0) return reads_;
  std::vector<std::string> keys;
  for (const auto& p : params_) {
    if (!p.is_static()) keys.push_back(p.key());
  }
  return keys;
}

Context Task::operator()(ActivityExecution& activity, const Context& context) const {
  if (!misuse_.empty()) throw TaskError(misuse_);
  std::vector<Json> args;
  if (arity_ > 0) {
    args.resize(static_cast<std::size_t>(arity_));
    if (filled_) {
      for (std::size_t i = 0; i < params_.size(); ++i) {
        const Param& p = params_[i];
        if (p.is_static()) {
          args[i] = p.value();
        } else if (context.is_object()) {
          auto it = context.find(p.key());
          if (it != context.end()) args[i] = *it;
        }
      }
    }
  }
  Json result;
  try {
    result = invoke_(activity, context, args);
  } catch (const TaskError& e) {
    // Name the context key the parameter was bound to.
    std::string message = e.what();
    if (filled_) {
      for (std::size_t i = 0; i < params_.size(); ++i) {
        const std::string prefix = "parameter " + std::to_string(i + 1) + " ";
        if (message.rfind(prefix, 0) == 0 && !params_[i].is_static()) {
          message = "parameter " + std::to_string(i + 1) + " ('" + params_[i].key() + "') " +
                    message.substr(prefix.size());
        }
      }
    }
    throw TaskError(message);
  }
  if (result.is_null()) return Context::object();
  if (!result.is_object()) {
    throw TaskError("a task must return a JSON object (or nothing), not " +
                    std::string(result.type_name()));
  }
  if (namespace_.empty()) return result;
  Context out = Context::object();
  for (auto& [key, value] : result.items()) out[namespace_ + "." + key] = value;
  return out;
}

}  // namespace garcon
