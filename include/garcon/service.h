// swf::Service: the one interface shaped exactly like Amazon SWF's wire
// protocol. An operation name ("StartWorkflowExecution", ...) and a JSON
// request give a JSON response or a Status whose fault is named as SWF names
// it. The embedded engine implements it, the HTTP client implements it over
// the network, and the decider and activity worker use nothing else.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "garcon/status.h"

namespace garcon {
using Json = nlohmann::json;
}

namespace garcon::swf {

// Long polls (PollForDecisionTask, PollForActivityTask) may block for up to
// 60 seconds and answer with the empty-poll shape (no `taskToken`) when no
// task arrived. Implementations are thread-safe: any number of threads may
// call at once.
class Service {
 public:
  virtual ~Service() = default;

  // `request` must be a JSON object. Unknown operations give
  // Fault::kUnknownOperation.
  virtual Result<Json> Call(std::string_view operation, const Json& request) = 0;
};

// True when a poll response carries a task (SWF omits `taskToken`, or sends
// it empty, when a long poll ends without one).
bool HasTask(const Json& poll_response);

}  // namespace garcon::swf
