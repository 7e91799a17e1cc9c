#include "app/history.h"

#include "base/status_macros.h"

namespace garcon::app {

Result<std::vector<Json>> FetchHistory(swf::Service& service, const std::string& domain,
                                       const std::string& workflow_id,
                                       const std::string& run_id) {
  std::vector<Json> events;
  Json request = {{"domain", domain},
                  {"execution", {{"workflowId", workflow_id}, {"runId", run_id}}},
                  {"maximumPageSize", 1000}};
  for (;;) {
    ASSIGN_OR_RETURN(Json page, service.Call("GetWorkflowExecutionHistory", request));
    for (auto& e : page["events"]) events.push_back(std::move(e));
    const std::string token = page.value("nextPageToken", "");
    if (token.empty()) return events;
    request["nextPageToken"] = token;
  }
}

}  // namespace garcon::app
