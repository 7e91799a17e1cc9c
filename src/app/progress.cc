#include "app/progress.h"

#include <fmt/format.h>

namespace garcon::app {

Progress CountProgress(const std::vector<Json>& events) {
  Progress p;
  p.events = events.size();
  int started = 0;
  for (const auto& e : events) {
    const std::string type = e.value("eventType", "");
    if (type == "ActivityTaskScheduled") {
      ++p.scheduled;
    } else if (type == "ActivityTaskStarted") {
      ++started;
    } else if (type == "ActivityTaskCompleted") {
      ++p.completed;
    } else if (type == "ActivityTaskFailed" || type == "ActivityTaskTimedOut" ||
               type == "ActivityTaskCanceled") {
      ++p.failed;
    }
  }
  p.running = std::max(0, started - p.completed - p.failed);
  return p;
}

std::string FormatProgress(const std::string& flow, const Progress& p, double seconds) {
  return fmt::format("{}  {} events · {} done · {} running · {} failed attempts · {:.1f} s", flow,
                     p.events, p.completed, p.running, p.failed, seconds);
}

}  // namespace garcon::app
