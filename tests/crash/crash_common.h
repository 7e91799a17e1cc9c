// Shared by the crash driver (the process that is killed) and the crash test
// (the parent that kills it and checks the file): names, and the ack log.
//
// The ack log holds one line per call the engine acknowledged, appended by
// the driver right after the call returned OK:
//   started WORKFLOWID RUNID
//   decision-started RUNID WORKFLOWID STARTEDEVENTID
//   decided RUNID WORKFLOWID STARTEDEVENTID
//   activity-started RUNID WORKFLOWID STARTEDEVENTID
//   activity-completed RUNID WORKFLOWID STARTEDEVENTID ACTIVITYID
//   closed RUNID WORKFLOWID
//   registered RegisterDomain|RegisterWorkflowType|RegisterActivityType
// Each line is one write(2) on an O_APPEND descriptor, so a killed driver
// leaves whole lines (a torn last line is ignored all the same).
#pragma once

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace garcon::crash {

inline constexpr const char* kDomain = "crash";
inline constexpr const char* kWorkflowType = "flow";
inline constexpr const char* kActivityType = "step";
inline constexpr const char* kVersion = "1";
inline constexpr const char* kDecisionList = "decisions";
inline constexpr const char* kActivityList = "work";
// Each workflow runs this many activities in sequence, then completes.
inline constexpr int kSteps = 3;
// Short task timeouts (seconds, system clock) so that a task started by a
// killed driver times out soon and its workflow carries on.
inline constexpr const char* kDecisionTimeout = "2";
inline constexpr const char* kActivityTimeout = "2";

struct Ack {
  std::string kind;
  std::vector<std::string> fields;
};

// The complete lines of the ack log, in order.
inline std::vector<Ack> ReadAckLog(const std::string& path) {
  std::vector<Ack> out;
  std::ifstream in(path, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::size_t begin = 0;
  for (;;) {
    const std::size_t end = text.find('\n', begin);
    if (end == std::string::npos) break;  // a torn last line, or none
    std::istringstream line(text.substr(begin, end - begin));
    begin = end + 1;
    Ack ack;
    if (!(line >> ack.kind)) continue;
    for (std::string field; line >> field;) ack.fields.push_back(field);
    out.push_back(std::move(ack));
  }
  return out;
}

// "w-17" -> 17; -1 for anything else.
inline long WorkflowNumber(const std::string& workflow_id) {
  if (workflow_id.rfind("w-", 0) != 0 || workflow_id.size() < 3) return -1;
  long n = 0;
  for (std::size_t i = 2; i < workflow_id.size(); ++i) {
    const char c = workflow_id[i];
    if (c < '0' || c > '9') return -1;
    n = n * 10 + (c - '0');
  }
  return n;
}

}  // namespace garcon::crash
