// A SQLite file for a store test: a path in the temporary directory, unique
// per process, and its removal with the files SQLite keeps beside it.
#pragma once

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>

namespace garcon::store {

inline std::string TempPath(const std::string& name) {
  std::string file = name + "-" + std::to_string(getpid()) + ".db";
  for (char& c : file) c = c == '/' ? '_' : c;
  return (std::filesystem::temp_directory_path() / file).string();
}

// The -shm file is one an earlier version made; removed all the same.
inline void RemoveDb(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm"}) std::remove((path + suffix).c_str());
}

}  // namespace garcon::store
