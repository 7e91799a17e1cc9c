#include "base/limits.h"

#include <nlohmann/json.hpp>

namespace garcon::limits {
namespace {
bool IsContinuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }
}  // namespace

std::size_t Characters(std::string_view utf8) {
  std::size_t n = 0;
  for (char c : utf8) n += IsContinuation(c) ? 0 : 1;
  return n;
}

std::string CutToCharacters(std::string_view utf8, std::size_t max_characters) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < utf8.size(); ++i) {
    if (IsContinuation(utf8[i])) continue;
    if (n == max_characters) return std::string(utf8.substr(0, i));
    ++n;
  }
  return std::string(utf8);
}

std::string ValidUtf8(std::string_view text) {
  const std::string dumped = nlohmann::json(std::string(text))
                                 .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return nlohmann::json::parse(dumped).get<std::string>();
}

}  // namespace garcon::limits
