// SWF's duration strings ("300", or "NONE") and task priorities ("-5", "10"),
// which the model types only as strings.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "garcon/status.h"

namespace garcon::engine {

inline constexpr std::string_view kNone = "NONE";
// executionStartToCloseTimeout may not exceed one year.
inline constexpr std::int64_t kMaxExecutionSeconds = 365LL * 24 * 3600;

// Parses a duration: decimal seconds, or "NONE" when `allow_none` (stored in
// `*seconds` as nullopt). Anything else is a ValidationException naming
// `field`.
Status ParseDuration(std::string_view text, std::string_view field, bool allow_none,
                     std::optional<std::int64_t>* seconds);

// Checks a duration without keeping its value.
Status CheckDuration(std::string_view text, std::string_view field, bool allow_none);

// The seconds of a checked duration; nullopt for "NONE" (no timeout).
std::optional<std::int64_t> DurationSeconds(const std::string& duration);

// Parses a task priority: a decimal integer within Java's int range.
Status ParsePriority(std::string_view text, std::string_view field, std::int64_t* priority);

// The priority of an optional priority text (0 when absent). The text must
// have been checked.
std::int64_t PriorityOrZero(const std::optional<std::string>& text);

}  // namespace garcon::engine
