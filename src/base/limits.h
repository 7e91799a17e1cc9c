// SWF's size limits as the decider and worker apply them before a call, so
// an oversize value gives a clear failure instead of a rejected call.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace garcon::limits {

inline constexpr std::size_t kMaxDataCharacters = 32768;  // input, result, details
inline constexpr std::size_t kMaxReasonCharacters = 256;
// SWF's quotas per run: open activity tasks, timers, child executions.
inline constexpr std::size_t kMaxOpenActivities = 1000;
inline constexpr std::size_t kMaxOpenChildren = 1000;

// Unicode characters (code points) of a UTF-8 string.
std::size_t Characters(std::string_view utf8);
// The longest prefix of at most `max_characters` characters, never cutting a
// character in two.
std::string CutToCharacters(std::string_view utf8, std::size_t max_characters);

// `text` with every invalid UTF-8 sequence replaced by U+FFFD, so that it can
// travel in JSON (an exception's message may hold any bytes).
std::string ValidUtf8(std::string_view text);

}  // namespace garcon::limits
