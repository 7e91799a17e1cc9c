#include "flow/actors.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

namespace garcon::flow {

std::string DefaultIdentity(std::string_view role) {
  char host[256] = {0};
  gethostname(host, sizeof(host) - 1);
  return std::string(host) + ":" + std::to_string(getpid()) + ":" + std::string(role);
}

void ReportException(const ExceptionHandler& handler, const std::string& actor,
                     const std::exception& error) {
  if (!handler) return;
  try {
    handler(actor, error);
  } catch (const std::exception& e) {
    spdlog::warn("the exception handler of {} threw: {}", actor, e.what());
  }
}

}  // namespace garcon::flow
