#include "engine/durations.h"

#include <charconv>
#include <limits>
#include <string>

namespace garcon::engine {
namespace {

Status Invalid(std::string_view text, std::string_view field, std::string_view rule) {
  return ValidationError("1 validation error detected: Value '" + std::string(text) + "' at '" +
                         std::string(field) +
                         "' failed to satisfy constraint: " + std::string(rule));
}

bool ParseInt(std::string_view text, std::int64_t* out) {
  if (text.empty()) return false;
  const char* first = text.data();
  const char* last = text.data() + text.size();
  if (*first == '+') return false;
  auto [ptr, ec] = std::from_chars(first, last, *out);
  return ec == std::errc() && ptr == last;
}

}  // namespace

Status ParseDuration(std::string_view text, std::string_view field, bool allow_none,
                     std::optional<std::int64_t>* seconds) {
  if (text == kNone) {
    if (!allow_none) return Invalid(text, field, "Member must not be NONE");
    *seconds = std::nullopt;
    return Status::Ok();
  }
  std::int64_t value = 0;
  if (!ParseInt(text, &value) || value < 0 || text.front() == '-') {
    return Invalid(text, field, "Member must be a number of seconds or NONE");
  }
  *seconds = value;
  return Status::Ok();
}

Status CheckDuration(std::string_view text, std::string_view field, bool allow_none) {
  std::optional<std::int64_t> ignored;
  return ParseDuration(text, field, allow_none, &ignored);
}

std::optional<std::int64_t> DurationSeconds(const std::string& duration) {
  std::optional<std::int64_t> seconds;
  if (!ParseDuration(duration, "duration", /*allow_none=*/true, &seconds).ok()) return std::nullopt;
  return seconds;
}

Status ParsePriority(std::string_view text, std::string_view field, std::int64_t* priority) {
  std::int64_t value = 0;
  if (!ParseInt(text, &value) || value < std::numeric_limits<std::int32_t>::min() ||
      value > std::numeric_limits<std::int32_t>::max()) {
    return Invalid(text, field, "Member must be an integer between -2147483648 and 2147483647");
  }
  *priority = value;
  return Status::Ok();
}

std::int64_t PriorityOrZero(const std::optional<std::string>& text) {
  if (!text) return 0;
  std::int64_t value = 0;
  return ParseInt(*text, &value) ? value : 0;
}

}  // namespace garcon::engine
