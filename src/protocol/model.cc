#include "protocol/model.h"

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <unordered_map>
#include <vector>
#include <optional>
#include <string>
#include <utility>

#include "protocol/swf_model.inc"

namespace garcon::protocol {
namespace detail {

// The model's shapes compiled once into a graph of structs: a request is
// checked by following pointers, not by looking shape names, types and
// bounds up in the model's JSON at every member.
struct CompiledShape {
  enum class Kind { kStructure, kList, kMap, kString, kInteger, kLong, kBoolean, kNumber, kBlob, kOther };
  struct Member {
    std::string name;
    const CompiledShape* shape = nullptr;  // null: not in the model (not checked)
    bool required = false;
    bool name_rule = false;  // SWF's name rule applies (to `name` of a TaskList)
  };
  Kind kind = Kind::kOther;
  std::optional<std::int64_t> min;
  std::optional<std::int64_t> max;
  std::string min_text;  // the bounds as the model prints them
  std::string max_text;
  std::vector<Json> enum_values;
  std::string enum_text;
  std::vector<Member> members;             // structure
  const CompiledShape* item = nullptr;     // list member, map value
  const CompiledShape* key = nullptr;      // map key
};

struct CompiledModel {
  std::unordered_map<std::string, CompiledShape> shapes;
  // Operation -> its input shape (null: the operation has none).
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, const CompiledShape*, Hash, std::equal_to<>> inputs;
};

}  // namespace detail

namespace {

using detail::CompiledModel;
using detail::CompiledShape;

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


const CompiledShape* Lookup(CompiledModel& model, const Json& name) {
  if (!name.is_string()) return nullptr;
  auto it = model.shapes.find(name.get<std::string>());
  return it == model.shapes.end() ? nullptr : &it->second;
}

std::unique_ptr<CompiledModel> Compile(const Json& model) {
  auto compiled = std::make_unique<CompiledModel>();
  const Json& shapes = model["shapes"];
  // First every shape (stable addresses: the map is not resized after), then
  // the links between them.
  compiled->shapes.reserve(shapes.size());
  for (const auto& [name, shape] : shapes.items()) compiled->shapes[name];
  for (const auto& [name, shape] : shapes.items()) {
    CompiledShape& c = compiled->shapes[name];
    using Kind = CompiledShape::Kind;
    const std::string type = shape.value("type", "");
    if (type == "structure") {
      c.kind = Kind::kStructure;
    } else if (type == "list") {
      c.kind = Kind::kList;
    } else if (type == "map") {
      c.kind = Kind::kMap;
    } else if (type == "string") {
      c.kind = Kind::kString;
    } else if (type == "integer") {
      c.kind = Kind::kInteger;
    } else if (type == "long") {
      c.kind = Kind::kLong;
    } else if (type == "boolean") {
      c.kind = Kind::kBoolean;
    } else if (type == "timestamp" || type == "double" || type == "float") {
      c.kind = Kind::kNumber;
    } else if (type == "blob") {
      c.kind = Kind::kBlob;
    }
    if (shape.contains("min")) {
      c.min = shape["min"].get<std::int64_t>();
      c.min_text = shape["min"].dump();
    }
    if (shape.contains("max")) {
      c.max = shape["max"].get<std::int64_t>();
      c.max_text = shape["max"].dump();
    }
    if (shape.contains("enum")) {
      for (const auto& e : shape["enum"]) c.enum_values.push_back(e);
      c.enum_text = Printable(shape["enum"]);
    }
    if (shape.contains("members") && c.kind == Kind::kStructure) {
      const Json& required = shape.contains("required") ? shape["required"] : NullJson();
      for (const auto& [member, member_shape] : shape["members"].items()) {
        CompiledShape::Member m;
        m.name = member;
        m.shape = Lookup(*compiled, member_shape);
        if (required.is_array()) {
          for (const auto& r : required) m.required = m.required || r == member;
        }
        m.name_rule = NameRuleApplies(name, member);
        c.members.push_back(std::move(m));
      }
    }
    if (c.kind == Kind::kList) c.item = Lookup(*compiled, shape.value("member", Json()));
    if (c.kind == Kind::kMap) {
      c.key = Lookup(*compiled, shape.value("key", Json()));
      c.item = Lookup(*compiled, shape.value("value", Json()));
    }
  }
  for (const auto& [name, op] : model["operations"].items()) {
    compiled->inputs[name] = op.contains("input") ? Lookup(*compiled, op["input"]) : nullptr;
  }
  return compiled;
}

// Walks a request against the compiled model, collecting validation errors
// and stopping at the first serialization error (coral deserializes before
// it validates, so a type error wins over any constraint violation). The
// path of a member ("a.b.1.member") is kept as a stack of parts and only
// spelled out for a message.
class Validator {
 public:
  void Visit(const Json& value, const CompiledShape* shape, bool name_rule) {
    if (serialization_ || shape == nullptr) return;  // Not in the model: nothing to check.
    using Kind = CompiledShape::Kind;
    switch (shape->kind) {
      case Kind::kStructure:
        VisitStructure(value, *shape, name_rule);
        break;
      case Kind::kList:
        VisitList(value, *shape);
        break;
      case Kind::kMap:
        VisitMap(value, *shape);
        break;
      case Kind::kString:
        VisitString(value, *shape, name_rule);
        break;
      case Kind::kInteger:
      case Kind::kLong:
        VisitInteger(value, *shape, shape->kind == Kind::kInteger);
        break;
      case Kind::kBoolean:
        if (!value.is_boolean()) TypeError(value, "a Boolean");
        break;
      case Kind::kNumber:
        if (!value.is_number()) TypeError(value, "a Date");
        break;
      case Kind::kBlob:
        if (!value.is_string()) TypeError(value, "a Blob");
        break;
      case Kind::kOther:
        break;
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
  // One part of a path: a member or map key name, or a list position.
  struct Part {
    std::string_view name;
    std::size_t index = 0;  // 1-based list position when name is empty
  };
  struct Push {
    Push(std::vector<Part>& parts, Part part) : parts_(parts) { parts_.push_back(part); }
    ~Push() { parts_.pop_back(); }
    Push(const Push&) = delete;
    Push& operator=(const Push&) = delete;
    std::vector<Part>& parts_;
  };

  std::string Path() const {
    std::string out;
    for (const Part& part : path_) {
      if (!out.empty()) out += '.';
      if (part.name.empty()) {
        out += std::to_string(part.index);
        out += ".member";
      } else {
        out += part.name;
      }
    }
    return out;
  }

  void TypeError(const Json& value, std::string_view target) {
    std::string message;
    if (value.is_object()) {
      message = "Start of structure or map found where not expected";
    } else if (value.is_array()) {
      message = "Start of list found where not expected";
    } else {
      message = std::string(TokenName(value)) + " can not be converted to " + std::string(target);
    }
    serialization_ = SerializationError(message + " at '" + Path() + "'");
  }

  void AddErrorText(const std::string& value, const std::string& constraint) {
    errors_.push_back(value + " at '" + Path() + "' failed to satisfy constraint: " + constraint);
  }
  void AddError(const Json& value, const std::string& constraint) {
    AddErrorText("Value '" + Printable(value) + "'", constraint);
  }
  void AddNull() { AddErrorText("Value null", "Member must not be null"); }

  void CheckLength(const Json& value, std::size_t length, const CompiledShape& shape, bool* ok) {
    const auto n = static_cast<std::int64_t>(length);
    if (shape.min && n < *shape.min) {
      AddError(value, "Member must have length greater than or equal to " + shape.min_text);
      *ok = false;
    }
    if (shape.max && n > *shape.max) {
      AddError(value, "Member must have length less than or equal to " + shape.max_text);
      *ok = false;
    }
  }

  void VisitStructure(const Json& value, const CompiledShape& shape, bool name_rule) {
    if (!value.is_object()) {
      const std::string path = Path();
      std::string where = path.empty() ? "" : " at '" + path + "'";
      serialization_ = SerializationError("Start of structure or map not found" + where +
                                          " (found " + std::string(TokenName(value)) + ")");
      return;
    }
    for (const auto& member : shape.members) {
      Push push(path_, Part{member.name});
      auto found = value.find(member.name);
      const bool absent = found == value.end() || found->is_null();
      if (absent) {
        if (member.required) AddNull();
        continue;
      }
      // A name-rule structure (TaskList) passes the rule on to its `name`.
      const bool member_rule = (name_rule && member.name == "name") || member.name_rule;
      Visit(*found, member.shape, member_rule);
      if (serialization_) return;
    }
  }

  void VisitList(const Json& value, const CompiledShape& shape) {
    if (!value.is_array()) {
      serialization_ = SerializationError("Start of list not found at '" + Path() + "' (found " +
                                          std::string(TokenName(value)) + ")");
      return;
    }
    bool ok = true;
    CheckLength(value, value.size(), shape, &ok);
    for (std::size_t i = 0; i < value.size(); ++i) {
      Push push(path_, Part{{}, i + 1});
      if (value[i].is_null()) {
        AddNull();
        continue;
      }
      Visit(value[i], shape.item, false);
      if (serialization_) return;
    }
  }

  void VisitMap(const Json& value, const CompiledShape& shape) {
    if (!value.is_object()) {
      serialization_ = SerializationError("Start of structure or map not found at '" + Path() +
                                          "' (found " + std::string(TokenName(value)) + ")");
      return;
    }
    bool ok = true;
    CheckLength(value, value.size(), shape, &ok);
    for (const auto& [key, item] : value.items()) {
      Push push(path_, Part{key});
      Visit(Json(key), shape.key, false);
      if (serialization_) return;
      if (item.is_null()) {
        AddNull();
        continue;
      }
      Visit(item, shape.item, false);
      if (serialization_) return;
    }
  }

  void VisitString(const Json& value, const CompiledShape& shape, bool name_rule) {
    if (!value.is_string()) {
      TypeError(value, "a String");
      return;
    }
    const auto& text = value.get_ref<const std::string&>();
    bool ok = true;
    if (shape.min || shape.max) {
      // Characters, not bytes; only counted when the byte length could be
      // out of bounds (a character is 1 to 4 bytes).
      const bool may_break = (shape.min && static_cast<std::int64_t>(text.size()) < *shape.min * 4) ||
                             (shape.max && static_cast<std::int64_t>(text.size()) > *shape.max);
      if (may_break) CheckLength(value, CharacterCount(text), shape, &ok);
    }
    if (!shape.enum_values.empty()) {
      bool in_set = false;
      for (const auto& e : shape.enum_values) in_set = in_set || e == value;
      if (!in_set) {
        AddError(value, "Member must satisfy enum value set: " + shape.enum_text);
        ok = false;
      }
    }
    if (ok && name_rule && !NameCharactersValid(text)) {
      AddError(value,
               "Member must not contain ':', '/', '|' or control characters "
               "(\\u0000-\\u001f, \\u007f-\\u009f), and must not be the literal string 'arn'");
    }
  }

  void VisitInteger(const Json& value, const CompiledShape& shape, bool is_int32) {
    const char* target = is_int32 ? "an Integer" : "a Long";
    std::int64_t n = 0;
    if (value.is_number_integer() && !value.is_number_unsigned()) {
      n = value.get<std::int64_t>();
    } else if (value.is_number_unsigned()) {
      const auto u = value.get<std::uint64_t>();
      if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        OutOfRange(value, target);
        return;
      }
      n = static_cast<std::int64_t>(u);
    } else if (value.is_number_float()) {
      const double d = value.get<double>();
      if (!std::isfinite(d) || std::trunc(d) != d) {
        TypeError(value, target);
        return;
      }
      // 2^63 is exactly representable; anything at or beyond it is out of range.
      if (d >= 9223372036854775808.0 || d < -9223372036854775808.0) {
        OutOfRange(value, target);
        return;
      }
      n = static_cast<std::int64_t>(d);
    } else {
      TypeError(value, target);
      return;
    }
    if (is_int32 && (n < std::numeric_limits<std::int32_t>::min() ||
                     n > std::numeric_limits<std::int32_t>::max())) {
      OutOfRange(value, target);
      return;
    }
    if (shape.min && n < *shape.min) {
      AddError(value, "Member must have value greater than or equal to " + shape.min_text);
    }
    if (shape.max && n > *shape.max) {
      AddError(value, "Member must have value less than or equal to " + shape.max_text);
    }
  }

  void OutOfRange(const Json& value, const char* target) {
    serialization_ = SerializationError("NUMBER_VALUE " + value.dump() + " is out of range for " +
                                        target + " at '" + Path() + "'");
  }

  std::vector<Part> path_;
  std::vector<std::string> errors_;
  std::optional<Status> serialization_;
};

}  // namespace

Model::Model() {
  std::string text;
  for (const char* chunk : generated::kModelChunks) text += chunk;
  model_ = Json::parse(text);
  compiled_ = Compile(model_);
}

Model::~Model() = default;

const Model& Model::Get() {
  static const Model model;
  return model;
}

bool Model::HasOperation(std::string_view operation) const {
  return compiled_->inputs.find(operation) != compiled_->inputs.end();
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
  auto op = compiled_->inputs.find(operation);
  if (op == compiled_->inputs.end()) {
    return {Fault::kUnknownOperation, "Unknown operation " + std::string(operation)};
  }
  if (!request.is_object()) {
    return SerializationError(
        "Start of structure or map not found: the request must be a JSON "
        "object (found " +
        std::string(TokenName(request)) + ")");
  }
  if (op->second == nullptr) return Status::Ok();
  Validator validator;
  validator.Visit(request, op->second, false);
  return validator.Result();
}

bool IsGarconOperation(std::string_view operation) {
  return operation == "PutPayload" || operation == "GetPayload";
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
