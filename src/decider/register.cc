#include <string>

#include "base/status_macros.h"
#include "garcon/decider.h"

namespace garcon {
namespace {

Status IgnoreExists(Result<Json> r, Fault exists) {
  if (r.ok() || r.fault() == exists) return Status::Ok();
  return r.status();
}

}  // namespace

// One flow's domain and types.
Status RegisterOne(const Flow& flow, swf::Service& service) {
  RETURN_IF_ERROR(flow.Validate());
  RETURN_IF_ERROR(IgnoreExists(
      service.Call("RegisterDomain",
                   {{"name", flow.domain()},
                    {"workflowExecutionRetentionPeriodInDays",
                     std::to_string(flow.retention_days())}}),
      Fault::kDomainAlreadyExists));
  RETURN_IF_ERROR(IgnoreExists(
      service.Call("RegisterWorkflowType",
                   {{"domain", flow.domain()},
                    {"name", flow.name()},
                    {"version", flow.version()},
                    {"defaultTaskList", {{"name", flow.task_list()}}},
                    {"defaultExecutionStartToCloseTimeout",
                     std::to_string(flow.execution_timeout())},
                    {"defaultTaskStartToCloseTimeout", std::to_string(flow.decision_timeout())},
                    {"defaultChildPolicy", "TERMINATE"}}),
      Fault::kTypeAlreadyExists));
  for (const auto& activity : flow.activities()) {
    RETURN_IF_ERROR(IgnoreExists(service.Call("RegisterActivityType",
                                              {{"domain", flow.domain()},
                                               {"name", activity->name()},
                                               {"version", flow.version()},
                                               {"defaultTaskList", {{"name", activity->task_list()}}}}),
                                 Fault::kTypeAlreadyExists));
  }
  return Status::Ok();
}

Status Register(const Flow& flow, swf::Service& service) {
  RETURN_IF_ERROR(RegisterOne(flow, service));
  for (const Flow* child : flow.ChildFlows()) RETURN_IF_ERROR(RegisterOne(*child, service));
  return Status::Ok();
}

}  // namespace garcon
