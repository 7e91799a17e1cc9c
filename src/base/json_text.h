// Json as compact text: the bytes Json::dump(-1, ' ', false,
// Json::error_handler_t::replace) writes (invalid UTF-8 replaced, never
// thrown on), written faster. Strings of printable ASCII, nearly all of
// what the engine and the server write, are copied whole rather than
// escaped byte by byte; other strings go through Json's own escaping.
#pragma once

#include <string>

#include "garcon/service.h"

namespace garcon {

// Appends `value`'s text to `*out`.
void AppendJsonText(std::string* out, const Json& value);

// `value`'s text.
std::string JsonText(const Json& value);

}  // namespace garcon
