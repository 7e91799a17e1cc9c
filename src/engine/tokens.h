// Identifiers the engine hands out: run ids, task tokens and page tokens.
// Task tokens are opaque to clients, carry what locates the task (run, kind,
// event ids) and a random secret the engine checks, so they cannot be
// guessed. Page tokens are opaque, versioned and checked on the way back in.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "garcon/service.h"
#include "garcon/status.h"

namespace garcon::engine {

// 44 characters from [A-Za-z0-9], like SWF's run ids: 10 that grow with
// each id this process makes (so ids sort in the order they were made), 34
// random ones.
std::string NewRunId();
// 32 random hex characters.
std::string NewSecret();

std::string Base64UrlEncode(std::string_view bytes);
std::optional<std::string> Base64UrlDecode(std::string_view text);

enum class TaskKind : char { kDecision = 'd', kActivity = 'a' };

struct TaskToken {
  TaskKind kind = TaskKind::kDecision;
  std::string run_id;
  std::int64_t scheduled_event_id = 0;
  std::int64_t started_event_id = 0;
  std::string secret;
};

std::string EncodeTaskToken(const TaskToken& token);
// nullopt when the text is not a token this engine made.
std::optional<TaskToken> DecodeTaskToken(std::string_view text);

// Page tokens wrap a small JSON object. A token that does not decode, or
// whose `kind` differs, is a ValidationException.
std::string EncodePageToken(std::string_view kind, Json fields);
Result<Json> DecodePageToken(std::string_view text, std::string_view kind);

}  // namespace garcon::engine
