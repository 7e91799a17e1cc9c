#include "client/ini.h"

#include <fstream>
#include <sstream>

namespace garcon::client {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace

IniFile ParseIni(std::string_view text) {
  IniFile out;
  std::map<std::string, std::string>* section = nullptr;
  std::string* last_value = nullptr;  // the value a continuation line extends
  std::size_t last_indent = 0;        // indentation of that value's key line

  while (!text.empty()) {
    std::size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);

    std::size_t indent = 0;
    while (indent < line.size() && IsSpace(line[indent])) ++indent;
    std::string_view stripped = Trim(line);
    if (stripped.empty()) continue;
    if (stripped.front() == '#' || stripped.front() == ';') continue;

    if (last_value != nullptr && indent > last_indent) {
      *last_value += '\n';
      *last_value += stripped;
      continue;
    }
    last_value = nullptr;

    if (stripped.front() == '[') {
      std::size_t close = stripped.rfind(']');
      if (close != std::string_view::npos && close > 1) {
        section = &out[std::string(stripped.substr(1, close - 1))];
        continue;
      }
    }
    if (section == nullptr) continue;
    std::size_t delim = stripped.find_first_of("=:");
    if (delim == std::string_view::npos) continue;
    std::string key = Lower(Trim(stripped.substr(0, delim)));
    if (key.empty()) continue;
    std::string& value = (*section)[key];
    value = std::string(Trim(stripped.substr(delim + 1)));
    last_value = &value;
    last_indent = indent;
  }
  return out;
}

std::optional<IniFile> ReadIniFile(const std::string& path) {
  if (path.empty()) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return ParseIni(text.str());
}

}  // namespace garcon::client
