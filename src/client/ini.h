// The INI dialect of ~/.aws/credentials and ~/.aws/config, read as botocore
// reads it (Python's configparser): `[section]` headers, `key = value` or
// `key: value` (key up to the first delimiter, lowercased, both sides
// trimmed), whole-line comments starting with '#' or ';' (no inline
// comments), and indented continuation lines (nested settings such as
// `s3 =` blocks) appended to the previous value after a '\n'.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace garcon::client {

// Section name -> key -> value. A repeated section or key: the later wins.
using IniFile = std::map<std::string, std::map<std::string, std::string>, std::less<>>;

// Lines before the first section header, and lines that are neither a
// header, a comment, a setting nor a continuation, are ignored.
IniFile ParseIni(std::string_view text);

// The parsed file, or nullopt when it cannot be read (missing, a directory).
std::optional<IniFile> ReadIniFile(const std::string& path);

}  // namespace garcon::client
