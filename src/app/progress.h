// The one-line progress display of `run` on a terminal.
#pragma once

#include <string>
#include <vector>

#include "garcon/service.h"

namespace garcon::app {

struct Progress {
  int scheduled = 0;   // activity tasks scheduled (attempts)
  int completed = 0;
  int failed = 0;      // failed, timed out or canceled attempts
  int running = 0;     // started, not closed
  std::size_t events = 0;
};

// Counts activity attempts in a history.
Progress CountProgress(const std::vector<Json>& events);

// "country_flow  12 events · 3 done · 1 running · 2 failed attempts · 1.4 s"
std::string FormatProgress(const std::string& flow, const Progress& p, double seconds);

}  // namespace garcon::app
