// Comparison of secrets (task-token secrets, request signatures) in time that
// depends on their length only, not on where they first differ, so that a
// client cannot learn a secret byte by byte from response times.
#pragma once

#include <string_view>

namespace garcon {

inline bool SecretsEqual(std::string_view a, std::string_view b) {
  // The lengths are not secret (fixed by the format); the contents are.
  if (a.size() != b.size()) return false;
  volatile unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff = static_cast<unsigned char>(diff | (static_cast<unsigned char>(a[i]) ^
                                              static_cast<unsigned char>(b[i])));
  }
  return diff == 0;
}

}  // namespace garcon
