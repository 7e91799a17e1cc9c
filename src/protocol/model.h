// The SWF API model (generated from the official service-2.json by
// tools/gen_model.py) and request validation driven by it: required members,
// JSON types, string lengths, numeric bounds, enums, list sizes, plus SWF's
// documented name rules the model cannot express. Shared by the engine (which
// validates every request) and the server and client codecs.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "garcon/payloads.h"
#include "garcon/service.h"
#include "garcon/status.h"

namespace garcon::protocol {

namespace detail {
struct CompiledModel;
}  // namespace detail

class Model {
 public:
  // The process-wide parsed model. Thread-safe.
  static const Model& Get();

  bool HasOperation(std::string_view operation) const;
  std::vector<std::string> OperationNames() const;
  // Shape names of an operation's input and output ("" when none).
  std::string InputShape(std::string_view operation) const;
  std::string OutputShape(std::string_view operation) const;
  // The faults an operation declares (e.g. "UnknownResourceFault").
  std::vector<std::string> Errors(std::string_view operation) const;
  // The reduced shape JSON ({type, members, required, min, max, enum, ...}).
  const Json& Shape(std::string_view name) const;
  const Json& raw() const { return model_; }

  // Validates `request` as the input of `operation`:
  // - not an object, or a member of the wrong JSON type: kSerialization;
  // - a missing required member, a length/size/value out of bounds, a value
  //   outside its enum, a name breaking SWF's name rules: kValidation, with
  //   SWF's message form ("1 validation error detected: Value ... at 'path'
  //   failed to satisfy constraint: ...").
  // Unknown members are ignored, as SWF ignores them. Unknown operations:
  // kUnknownOperation.
  Status ValidateInput(std::string_view operation, const Json& request) const;

 private:
  Model();
  ~Model();
  Json model_;
  // The shapes as a graph of structs that ValidateInput walks.
  std::unique_ptr<const detail::CompiledModel> compiled_;
};

// Garcon's own operations beside SWF's, sent with X-Amz-Target
// "GarconService.<Operation>" (docs/payloads.md):
// - PutPayload {domain, data} -> {key}: stores `data` (at most
//   kMaxPayloadBytes bytes) in the domain under its SHA-256 (hex), the key;
// - GetPayload {domain, key} -> {data}.
// They carry inputs, results and contexts past SWF's 32,768 characters;
// Amazon SWF does not have them (payloads go to S3 there).
inline constexpr std::string_view kGarconTargetPrefix = "GarconService.";
inline constexpr std::size_t kMaxPayloadBytes = garcon::kMaxPayloadBytes;
bool IsGarconOperation(std::string_view operation);

// SWF's rule for names (domain, type name, task list, workflowId, activityId,
// timerId, ...): 1..256 characters, no ':', '/', '|', no control characters
// (U+0000-U+001F, U+007F-U+009F), not the literal "arn". Invalid UTF-8 is
// not a valid name.
bool IsValidSwfName(std::string_view name);

// Number of characters (Unicode code points) of a UTF-8 string, the unit of
// SWF's length limits. Each byte of an invalid UTF-8 sequence counts as one
// character.
std::size_t CharacterCount(std::string_view utf8);

}  // namespace garcon::protocol
