#include "protocol/model.h"

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>

#include "protocol/swf_model.inc"

namespace garcon::protocol {
namespace {

const Json& NullJson() {
  static const Json kNull;
  return kNull;
}

// Decodes the UTF-8 sequence at `*pos`. On success stores the code point,
// advances `*pos` past the sequence and returns true. On an invalid sequence
// (bad lead byte, truncated, overlong, surrogate, beyond U+10FFFF) advances
// one byte and returns false.
bool DecodeUtf8(std::string_view s, std::size_t* pos, char32_t* cp) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char lead = byte(*pos);
  int extra = 0;
  char32_t value = 0;
  char32_t min = 0;
  if (lead < 0x80) {
    *cp = lead;
    ++*pos;
    return true;
  } else if ((lead & 0xE0) == 0xC0) {
    extra = 1;
    value = lead & 0x1F;
    min = 0x80;
  } else if ((lead & 0xF0) == 0xE0) {
    extra = 2;
    value = lead & 0x0F;
    min = 0x800;
  } else if ((lead & 0xF8) == 0xF0) {
    extra = 3;
    value = lead & 0x07;
    min = 0x10000;
  } else {
    ++*pos;
    return false;
  }
  if (*pos + static_cast<std::size_t>(extra) >= s.size()) {  // Truncated.
    ++*pos;
    return false;
  }
  for (int i = 1; i <= extra; ++i) {
    const unsigned char c = byte(*pos + static_cast<std::size_t>(i));
    if ((c & 0xC0) != 0x80) {
      ++*pos;
      return false;
    }
    value = (value << 6) | (c & 0x3F);
  }
  if (value < min || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) {
    ++*pos;
    return false;
  }
  *cp = value;
  *pos += static_cast<std::size_t>(extra) + 1;
  return true;
}

// The character part of SWF's name rule (the length part is the model's).
// Invalid UTF-8 breaks the rule.
bool NameCharactersValid(std::string_view name) {
  if (name == "arn") return false;
  std::size_t pos = 0;
  while (pos < name.size()) {
    char32_t cp = 0;
    if (!DecodeUtf8(name, &pos, &cp)) return false;
    if (cp == U':' || cp == U'/' || cp == U'|') return false;
    if (cp <= 0x1F || (cp >= 0x7F && cp <= 0x9F)) return false;
  }
  return true;
}

// Members to which SWF's name rule applies, as (structure shape, member).
// Where the member is a TaskList, the rule applies to its `name`. These are
// the members whose documentation in service-2.json states the rule, plus the
// other places a task list name is stored for later use (type default task
// lists, continue-as-new). References to existing resources (DescribeDomain's
// name, CancelTimer's timerId, ...) are not checked: a name breaking the rule
// cannot exist, so those fail with UnknownResourceFault as on SWF.
struct NameRuleMember {
  std::string_view structure;
  std::string_view member;
};
constexpr std::array kNameRuleMembers = {
    NameRuleMember{"RegisterDomainInput", "name"},
    NameRuleMember{"RegisterActivityTypeInput", "name"},
    NameRuleMember{"RegisterActivityTypeInput", "version"},
    NameRuleMember{"RegisterActivityTypeInput", "defaultTaskList"},
    NameRuleMember{"RegisterWorkflowTypeInput", "name"},
    NameRuleMember{"RegisterWorkflowTypeInput", "version"},
    NameRuleMember{"RegisterWorkflowTypeInput", "defaultTaskList"},
    NameRuleMember{"StartWorkflowExecutionInput", "domain"},
    NameRuleMember{"StartWorkflowExecutionInput", "workflowId"},
    NameRuleMember{"StartWorkflowExecutionInput", "taskList"},
    NameRuleMember{"PollForActivityTaskInput", "taskList"},
    NameRuleMember{"PollForDecisionTaskInput", "taskList"},
    NameRuleMember{"ScheduleActivityTaskDecisionAttributes", "activityId"},
    NameRuleMember{"ScheduleActivityTaskDecisionAttributes", "taskList"},
    NameRuleMember{"StartChildWorkflowExecutionDecisionAttributes", "workflowId"},
    NameRuleMember{"StartChildWorkflowExecutionDecisionAttributes", "taskList"},
    NameRuleMember{"StartTimerDecisionAttributes", "timerId"},
    NameRuleMember{"ContinueAsNewWorkflowExecutionDecisionAttributes", "taskList"},
};

bool NameRuleApplies(std::string_view structure, std::string_view member) {
  for (const auto& m : kNameRuleMembers) {
    if (m.structure == structure && m.member == member) return true;
  }
  return false;
}

// The token name coral uses for a JSON value in its serialization messages.
std::string_view TokenName(const Json& v) {
  switch (v.type()) {
    case Json::value_t::string:
      return "STRING_VALUE";
    case Json::value_t::boolean:
      return "BOOLEAN_VALUE";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float:
      return "NUMBER_VALUE";
    case Json::value_t::object:
      return "START_OBJECT";
    case Json::value_t::array:
      return "START_ARRAY";
    default:
      return "NULL_VALUE";
  }
}

// A value as coral prints it in "Value '...' at ...": strings raw, lists as
// "[a, b]".
std::string Printable(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_array()) {
    std::string out = "[";
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (i > 0) out += ", ";
      out += Printable(v[i]);
    }
    return out + "]";
  }
  return v.dump();
}

std::string Join(const std::string& path, std::string_view part) {
  if (path.empty()) return std::string(part);
  std::string out = path;
  out += '.';
  out += part;
  return out;
}

// Walks a request against the model, collecting validation errors and
// stopping at the first serialization error (coral deserializes before it
// validates, so a type error wins over any constraint violation).
class Validator {
 public:
  explicit Validator(const Json& shapes) : shapes_(shapes) {}

  void Visit(const Json& value, const std::string& shape_name, const std::string& path,
             bool name_rule) {
    if (serialization_) return;
    auto it = shapes_.find(shape_name);
    if (it == shapes_.end()) return;  // Not in the model: nothing to check.
    const Json& shape = *it;
    const std::string type = shape.value("type", "");
    if (type == "structure") {
      VisitStructure(value, shape, shape_name, path, name_rule);
    } else if (type == "list") {
      VisitList(value, shape, path);
    } else if (type == "map") {
      VisitMap(value, shape, path);
    } else if (type == "string") {
      VisitString(value, shape, path, name_rule);
    } else if (type == "integer" || type == "long") {
      VisitInteger(value, shape, path, type == "integer");
    } else if (type == "boolean") {
      if (!value.is_boolean()) TypeError(value, "a Boolean", path);
    } else if (type == "timestamp" || type == "double" || type == "float") {
      if (!value.is_number()) TypeError(value, "a Date", path);
    } else if (type == "blob") {
      if (!value.is_string()) TypeError(value, "a Blob", path);
    }
  }

  Status Result() const {
    if (serialization_) return *serialization_;
    if (errors_.empty()) return Status::Ok();
    std::string message = std::to_string(errors_.size());
    message +=
        errors_.size() == 1 ? " validation error detected: " : " validation errors detected: ";
    for (std::size_t i = 0; i < errors_.size(); ++i) {
      if (i > 0) message += "; ";
      message += errors_[i];
    }
    return ValidationError(std::move(message));
  }

 private:
  void TypeError(const Json& value, std::string_view target, const std::string& path) {
    std::string message;
    if (value.is_object()) {
      message = "Start of structure or map found where not expected";
    } else if (value.is_array()) {
      message = "Start of list found where not expected";
    } else {
      message = std::string(TokenName(value)) + " can not be converted to " + std::string(target);
    }
    serialization_ = SerializationError(message + " at '" + path + "'");
  }

  void AddErrorText(const std::string& value, const std::string& path,
                    const std::string& constraint) {
    errors_.push_back(value + " at '" + path + "' failed to satisfy constraint: " + constraint);
  }
  void AddError(const Json& value, const std::string& path, const std::string& constraint) {
    AddErrorText("Value '" + Printable(value) + "'", path, constraint);
  }
  void AddNull(const std::string& path) {
    AddErrorText("Value null", path, "Member must not be null");
  }

  void CheckLength(const Json& value, std::size_t length, const Json& shape,
                   const std::string& path, bool* ok) {
    const auto n = static_cast<std::int64_t>(length);
    if (shape.contains("min") && n < shape["min"].get<std::int64_t>()) {
      AddError(value, path,
               "Member must have length greater than or equal to " + shape["min"].dump());
      *ok = false;
    }
    if (shape.contains("max") && n > shape["max"].get<std::int64_t>()) {
      AddError(value, path, "Member must have length less than or equal to " + shape["max"].dump());
      *ok = false;
    }
  }

  void VisitStructure(const Json& value, const Json& shape, const std::string& shape_name,
                      const std::string& path, bool name_rule) {
    if (!value.is_object()) {
      std::string where = path.empty() ? "" : " at '" + path + "'";
      serialization_ = SerializationError("Start of structure or map not found" + where +
                                          " (found " + std::string(TokenName(value)) + ")");
      return;
    }
    const Json& required = shape.contains("required") ? shape["required"] : NullJson();
    if (!shape.contains("members")) return;
    for (const auto& [member, member_shape] : shape["members"].items()) {
      const std::string member_path = Join(path, member);
      auto found = value.find(member);
      const bool absent = found == value.end() || found->is_null();
      if (absent) {
        bool is_required = false;
        if (required.is_array()) {
          for (const auto& r : required) is_required = is_required || r == member;
        }
        if (is_required) AddNull(member_path);
        continue;
      }
      // A name-rule structure (TaskList) passes the rule on to its `name`.
      const bool member_rule =
          (name_rule && member == "name") || NameRuleApplies(shape_name, member);
      Visit(*found, member_shape.get<std::string>(), member_path, member_rule);
      if (serialization_) return;
    }
  }

  void VisitList(const Json& value, const Json& shape, const std::string& path) {
    if (!value.is_array()) {
      serialization_ = SerializationError("Start of list not found at '" + path + "' (found " +
                                          std::string(TokenName(value)) + ")");
      return;
    }
    bool ok = true;
    CheckLength(value, value.size(), shape, path, &ok);
    const std::string member_shape = shape.value("member", "");
    for (std::size_t i = 0; i < value.size(); ++i) {
      const std::string item_path = Join(path, std::to_string(i + 1) + ".member");
      if (value[i].is_null()) {
        AddNull(item_path);
        continue;
      }
      Visit(value[i], member_shape, item_path, false);
      if (serialization_) return;
    }
  }

  void VisitMap(const Json& value, const Json& shape, const std::string& path) {
    if (!value.is_object()) {
      serialization_ = SerializationError("Start of structure or map not found at '" + path +
                                          "' (found " + std::string(TokenName(value)) + ")");
      return;
    }
    bool ok = true;
    CheckLength(value, value.size(), shape, path, &ok);
    const std::string key_shape = shape.value("key", "");
    const std::string value_shape = shape.value("value", "");
    for (const auto& [key, item] : value.items()) {
      const std::string item_path = Join(path, key);
      Visit(Json(key), key_shape, item_path, false);
      if (serialization_) return;
      if (item.is_null()) {
        AddNull(item_path);
        continue;
      }
      Visit(item, value_shape, item_path, false);
      if (serialization_) return;
    }
  }

  void VisitString(const Json& value, const Json& shape, const std::string& path, bool name_rule) {
    if (!value.is_string()) {
      TypeError(value, "a String", path);
      return;
    }
    const auto& text = value.get_ref<const std::string&>();
    bool ok = true;
    CheckLength(value, CharacterCount(text), shape, path, &ok);
    if (shape.contains("enum")) {
      bool in_set = false;
      for (const auto& e : shape["enum"]) in_set = in_set || e == value;
      if (!in_set) {
        AddError(value, path, "Member must satisfy enum value set: " + Printable(shape["enum"]));
        ok = false;
      }
    }
    if (ok && name_rule && !NameCharactersValid(text)) {
      AddError(value, path,
               "Member must not contain ':', '/', '|' or control characters "
               "(\\u0000-\\u001f, \\u007f-\\u009f), and must not be the literal string 'arn'");
    }
  }

  void VisitInteger(const Json& value, const Json& shape, const std::string& path, bool is_int32) {
    const char* target = is_int32 ? "an Integer" : "a Long";
    std::int64_t n = 0;
    if (value.is_number_integer() && !value.is_number_unsigned()) {
      n = value.get<std::int64_t>();
    } else if (value.is_number_unsigned()) {
      const auto u = value.get<std::uint64_t>();
      if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        OutOfRange(value, target, path);
        return;
      }
      n = static_cast<std::int64_t>(u);
    } else if (value.is_number_float()) {
      const double d = value.get<double>();
      if (!std::isfinite(d) || std::trunc(d) != d) {
        TypeError(value, target, path);
        return;
      }
      // 2^63 is exactly representable; anything at or beyond it is out of range.
      if (d >= 9223372036854775808.0 || d < -9223372036854775808.0) {
        OutOfRange(value, target, path);
        return;
      }
      n = static_cast<std::int64_t>(d);
    } else {
      TypeError(value, target, path);
      return;
    }
    if (is_int32 && (n < std::numeric_limits<std::int32_t>::min() ||
                     n > std::numeric_limits<std::int32_t>::max())) {
      OutOfRange(value, target, path);
      return;
    }
    if (shape.contains("min") && n < shape["min"].get<std::int64_t>()) {
      AddError(value, path,
               "Member must have value greater than or equal to " + shape["min"].dump());
    }
    if (shape.contains("max") && n > shape["max"].get<std::int64_t>()) {
      AddError(value, path, "Member must have value less than or equal to " + shape["max"].dump());
    }
  }

  void OutOfRange(const Json& value, const char* target, const std::string& path) {
    serialization_ = SerializationError("NUMBER_VALUE " + value.dump() + " is out of range for " +
                                        target + " at '" + path + "'");
  }

  const Json& shapes_;
  std::vector<std::string> errors_;
  std::optional<Status> serialization_;
};

}  // namespace

Model::Model() {
  std::string text;
  for (const char* chunk : generated::kModelChunks) text += chunk;
  model_ = Json::parse(text);
}

const Model& Model::Get() {
  static const Model model;
  return model;
}

bool Model::HasOperation(std::string_view operation) const {
  return model_["operations"].contains(std::string(operation));
}

std::vector<std::string> Model::OperationNames() const {
  std::vector<std::string> names;
  for (const auto& [name, op] : model_["operations"].items()) names.push_back(name);
  return names;
}

std::string Model::InputShape(std::string_view operation) const {
  const Json& ops = model_["operations"];
  auto it = ops.find(std::string(operation));
  if (it == ops.end() || !(*it)["input"].is_string()) return "";
  return (*it)["input"].get<std::string>();
}

std::string Model::OutputShape(std::string_view operation) const {
  const Json& ops = model_["operations"];
  auto it = ops.find(std::string(operation));
  if (it == ops.end() || !(*it)["output"].is_string()) return "";
  return (*it)["output"].get<std::string>();
}

std::vector<std::string> Model::Errors(std::string_view operation) const {
  const Json& ops = model_["operations"];
  auto it = ops.find(std::string(operation));
  if (it == ops.end() || !it->contains("errors")) return {};
  return (*it)["errors"].get<std::vector<std::string>>();
}

const Json& Model::Shape(std::string_view name) const {
  const Json& shapes = model_["shapes"];
  auto it = shapes.find(std::string(name));
  return it == shapes.end() ? NullJson() : *it;
}

Status Model::ValidateInput(std::string_view operation, const Json& request) const {
  if (!HasOperation(operation)) {
    return {Fault::kUnknownOperation, "Unknown operation " + std::string(operation)};
  }
  if (!request.is_object()) {
    return SerializationError(
        "Start of structure or map not found: the request must be a JSON "
        "object (found " +
        std::string(TokenName(request)) + ")");
  }
  const std::string input = InputShape(operation);
  if (input.empty()) return Status::Ok();
  Validator validator(model_["shapes"]);
  validator.Visit(request, input, "", false);
  return validator.Result();
}

bool IsValidSwfName(std::string_view name) {
  const std::size_t length = CharacterCount(name);
  return length >= 1 && length <= 256 && NameCharactersValid(name);
}

std::size_t CharacterCount(std::string_view utf8) {
  std::size_t count = 0;
  std::size_t pos = 0;
  while (pos < utf8.size()) {
    char32_t cp = 0;
    DecodeUtf8(utf8, &pos, &cp);  // An invalid byte counts as one character.
    ++count;
  }
  return count;
}

}  // namespace garcon::protocol
