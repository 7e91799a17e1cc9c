// Domains, activity and workflow types, and domain tags.
#include <algorithm>
#include <charconv>
#include <functional>

#include "base/status_macros.h"
#include "engine/durations.h"
#include "engine/engine_impl.h"

namespace garcon::engine {
namespace {

constexpr std::string_view kArnPrefix = "arn:aws:swf:us-east-1:000000000000:/domain/";
constexpr std::string_view kArnDomainPart = ":/domain/";

std::string DomainArn(const std::string& name) { return std::string(kArnPrefix) + name; }

std::string TypeText(std::string_view kind, const TypeKey& key) {
  return std::string(kind) + "=[name=" + key.first + ", version=" + key.second + "]";
}

TypeKey KeyOf(const Json& type_json) {
  return TypeKey{StringOr(type_json, "name"), StringOr(type_json, "version")};
}

// Checks the optional duration `field` of a registration request.
Status CheckOptionalDuration(const Json& request, const char* field, bool allow_none) {
  auto value = OptString(request, field);
  if (!value) return Status::Ok();
  return CheckDuration(*value, field, allow_none);
}

Status CheckOptionalPriority(const Json& request, const char* field) {
  auto value = OptString(request, field);
  if (!value) return Status::Ok();
  std::int64_t ignored = 0;
  return ParsePriority(*value, field, &ignored);
}

// One page of `items` (already ordered) for the List* operations, paged by
// offset tokens of `kind`.
template <typename T>
Result<Json> PageOf(const std::vector<T>& items, const Json& request, std::string_view kind,
                    const char* result_key, const std::function<Json(const T&)>& render) {
  std::size_t offset = 0;
  const std::string token = StringOr(request, "nextPageToken");
  if (!token.empty()) {
    ASSIGN_OR_RETURN(Json fields, DecodePageToken(token, kind));
    if (!fields["o"].is_number_unsigned() || fields["o"].get<std::size_t>() > items.size()) {
      return ValidationError("Invalid nextPageToken");
    }
    offset = fields["o"].get<std::size_t>();
  }
  const std::size_t end =
      std::min(items.size(), offset + static_cast<std::size_t>(PageSize(request)));
  Json list = Json::array();
  for (std::size_t i = offset; i < end; ++i) list.push_back(render(items[i]));
  Json response{{result_key, std::move(list)}};
  if (end < items.size()) response["nextPageToken"] = EncodePageToken(kind, Object("o", end));
  return response;
}

template <typename TypeState>
Json TypeInfo(const TypeState& type, const char* type_key) {
  Json info{{type_key, TypeJson(type.name, type.version)},
            {"status", type.deprecated ? "DEPRECATED" : "REGISTERED"}};
  SetIf(info, "description", type.description);
  info["creationDate"] = Timestamp(type.creation_date);
  if (type.deprecation_date) info["deprecationDate"] = Timestamp(*type.deprecation_date);
  return info;
}

Json DomainInfo(const DomainState& domain) {
  Json info = Object("name", domain.name,
                     "status", domain.deprecated ? "DEPRECATED" : "REGISTERED");
  SetIf(info, "description", domain.description);
  info["arn"] = DomainArn(domain.name);
  return info;
}

Status CheckTags(const Json& tags, std::size_t existing) {
  if (!tags.is_array()) return Status::Ok();
  if (tags.size() + existing > kMaxDomainTags) {
    return Status(Fault::kTooManyTags, "A domain may carry at most 50 tags");
  }
  return Status::Ok();
}

void MergeTags(std::vector<std::pair<std::string, std::string>>& tags, const Json& list) {
  if (!list.is_array()) return;
  for (const Json& tag : list) {
    const std::string key = StringOr(tag, "key");
    const std::string value = StringOr(tag, "value");
    auto it = std::find_if(tags.begin(), tags.end(), [&](const auto& t) { return t.first == key; });
    if (it != tags.end()) {
      it->second = value;
    } else {
      tags.emplace_back(key, value);
    }
  }
}

}  // namespace

// --- domains ------------------------------------------------------------------------

Result<Json> EngineImpl::RegisterDomain(const Json& request) {
  const std::string name = StringOr(request, "name");
  if (domains_.count(name) > 0) {
    return Status(Fault::kDomainAlreadyExists, "Domain already exists: " + name);
  }
  const std::string retention = StringOr(request, "workflowExecutionRetentionPeriodInDays");
  if (retention != kNone) {
    std::int64_t days = -1;
    auto [ptr, ec] = std::from_chars(retention.data(), retention.data() + retention.size(), days);
    if (ec != std::errc() || ptr != retention.data() + retention.size() || days < 0 || days > 90) {
      return ValidationError("1 validation error detected: Value '" + retention +
                             "' at 'workflowExecutionRetentionPeriodInDays' failed to satisfy "
                             "constraint: Member must be a number of days from 0 to 90 or NONE");
    }
  }
  if (domains_.size() >= kMaxDomains) {
    return Status(Fault::kLimitExceeded, "Too many domains (limit 100)");
  }
  auto tags = request.find("tags");
  if (tags != request.end()) RETURN_IF_ERROR(CheckTags(*tags, 0));
  DomainState& domain = domains_[name];
  domain.name = name;
  domain.description = OptString(request, "description");
  domain.retention_days = retention;
  if (tags != request.end()) MergeTags(domain.tags, *tags);
  return Json::object();
}

Result<Json> EngineImpl::DescribeDomain(const Json& request) {
  ASSIGN_OR_RETURN(DomainState * domain, RequireDomain(StringOr(request, "name")));
  return Json{
      {"domainInfo", DomainInfo(*domain)},
      {"configuration", {{"workflowExecutionRetentionPeriodInDays", domain->retention_days}}}};
}

Result<Json> EngineImpl::ListDomains(const Json& request) {
  const bool deprecated = StringOr(request, "registrationStatus") == "DEPRECATED";
  std::vector<const DomainState*> matching;
  for (const auto& [name, domain] : domains_) {
    if (domain.deprecated == deprecated) matching.push_back(&domain);
  }
  if (BoolOr(request, "reverseOrder", false)) std::reverse(matching.begin(), matching.end());
  return PageOf<const DomainState*>(matching, request, "domains", "domainInfos",
                                    [](const DomainState* const& d) { return DomainInfo(*d); });
}

Result<Json> EngineImpl::DeprecateDomain(const Json& request) {
  ASSIGN_OR_RETURN(DomainState * domain, RequireDomain(StringOr(request, "name")));
  if (domain->deprecated) {
    return Status(Fault::kDomainDeprecated, "Domain is already deprecated: " + domain->name);
  }
  domain->deprecated = true;
  // Deprecating a domain deprecates its types.
  for (auto& [key, type] : domain->activity_types) {
    if (!type.deprecated) {
      type.deprecated = true;
      type.deprecation_date = now_;
    }
  }
  for (auto& [key, type] : domain->workflow_types) {
    if (!type.deprecated) {
      type.deprecated = true;
      type.deprecation_date = now_;
    }
  }
  return Json::object();
}

Result<Json> EngineImpl::UndeprecateDomain(const Json& request) {
  ASSIGN_OR_RETURN(DomainState * domain, RequireDomain(StringOr(request, "name")));
  if (!domain->deprecated) {
    return Status(Fault::kDomainAlreadyExists, "Domain is not deprecated: " + domain->name);
  }
  domain->deprecated = false;
  return Json::object();
}

// --- types ---------------------------------------------------------------------------

Result<Json> EngineImpl::RegisterActivityType(const Json& request) {
  ASSIGN_OR_RETURN(DomainState * domain, RequireDomain(StringOr(request, "domain")));
  if (domain->deprecated) {
    return Status(Fault::kDomainDeprecated, "Domain is deprecated: " + domain->name);
  }
  const TypeKey key{StringOr(request, "name"), StringOr(request, "version")};
  if (domain->activity_types.count(key) > 0) {
    return Status(Fault::kTypeAlreadyExists, TypeText("ActivityType", key));
  }
  RETURN_IF_ERROR(CheckOptionalDuration(request, "defaultTaskStartToCloseTimeout", true));
  RETURN_IF_ERROR(CheckOptionalDuration(request, "defaultTaskHeartbeatTimeout", true));
  RETURN_IF_ERROR(CheckOptionalDuration(request, "defaultTaskScheduleToStartTimeout", true));
  RETURN_IF_ERROR(CheckOptionalDuration(request, "defaultTaskScheduleToCloseTimeout", true));
  RETURN_IF_ERROR(CheckOptionalPriority(request, "defaultTaskPriority"));
  if (domain->activity_types.size() >= kMaxTypesPerDomain) {
    return Status(Fault::kLimitExceeded, "Too many activity types in domain " + domain->name);
  }
  ActivityTypeState& type = domain->activity_types[key];
  type.name = key.first;
  type.version = key.second;
  type.description = OptString(request, "description");
  type.creation_date = now_;
  type.default_task_list = OptTaskList(request, "defaultTaskList");
  type.default_task_priority = OptString(request, "defaultTaskPriority");
  type.default_task_start_to_close_timeout = OptString(request, "defaultTaskStartToCloseTimeout");
  type.default_task_heartbeat_timeout = OptString(request, "defaultTaskHeartbeatTimeout");
  type.default_task_schedule_to_start_timeout =
      OptString(request, "defaultTaskScheduleToStartTimeout");
  type.default_task_schedule_to_close_timeout =
      OptString(request, "defaultTaskScheduleToCloseTimeout");
  return Json::object();
}

Result<Json> EngineImpl::RegisterWorkflowType(const Json& request) {
  ASSIGN_OR_RETURN(DomainState * domain, RequireDomain(StringOr(request, "domain")));
  if (domain->deprecated) {
    return Status(Fault::kDomainDeprecated, "Domain is deprecated: " + domain->name);
  }
  const TypeKey key{StringOr(request, "name"), StringOr(request, "version")};
  if (domain->workflow_types.count(key) > 0) {
    return Status(Fault::kTypeAlreadyExists, TypeText("WorkflowType", key));
  }
  RETURN_IF_ERROR(CheckOptionalDuration(request, "defaultTaskStartToCloseTimeout", true));
  if (auto value = OptString(request, "defaultExecutionStartToCloseTimeout")) {
    std::optional<std::int64_t> seconds;
    RETURN_IF_ERROR(ParseDuration(*value, "defaultExecutionStartToCloseTimeout", false, &seconds));
    if (*seconds > kMaxExecutionSeconds) {
      return ValidationError(
          "defaultExecutionStartToCloseTimeout may not exceed one year (31536000)");
    }
  }
  RETURN_IF_ERROR(CheckOptionalPriority(request, "defaultTaskPriority"));
  if (domain->workflow_types.size() >= kMaxTypesPerDomain) {
    return Status(Fault::kLimitExceeded, "Too many workflow types in domain " + domain->name);
  }
  WorkflowTypeState& type = domain->workflow_types[key];
  type.name = key.first;
  type.version = key.second;
  type.description = OptString(request, "description");
  type.creation_date = now_;
  type.default_task_list = OptTaskList(request, "defaultTaskList");
  type.default_task_priority = OptString(request, "defaultTaskPriority");
  type.default_task_start_to_close_timeout = OptString(request, "defaultTaskStartToCloseTimeout");
  type.default_execution_start_to_close_timeout =
      OptString(request, "defaultExecutionStartToCloseTimeout");
  type.default_child_policy = OptString(request, "defaultChildPolicy");
  type.default_lambda_role = OptString(request, "defaultLambdaRole");
  return Json::object();
}

Result<Json> EngineImpl::DescribeActivityType(const Json& request) {
  ASSIGN_OR_RETURN(DomainState * domain, RequireDomain(StringOr(request, "domain")));
  const TypeKey key = KeyOf(Member(request, "activityType"));
  auto it = domain->activity_types.find(key);
  if (it == domain->activity_types.end()) {
    return UnknownResource("Unknown type: " + TypeText("ActivityType", key));
  }
  const ActivityTypeState& type = it->second;
  Json configuration = Json::object();
  SetIf(configuration, "defaultTaskStartToCloseTimeout", type.default_task_start_to_close_timeout);
  SetIf(configuration, "defaultTaskHeartbeatTimeout", type.default_task_heartbeat_timeout);
  if (type.default_task_list)
    configuration["defaultTaskList"] = TaskListJson(*type.default_task_list);
  SetIf(configuration, "defaultTaskPriority", type.default_task_priority);
  SetIf(configuration, "defaultTaskScheduleToStartTimeout",
        type.default_task_schedule_to_start_timeout);
  SetIf(configuration, "defaultTaskScheduleToCloseTimeout",
        type.default_task_schedule_to_close_timeout);
  return Object("typeInfo", TypeInfo(type, "activityType"), "configuration", configuration);
}

Result<Json> EngineImpl::DescribeWorkflowType(const Json& request) {
  ASSIGN_OR_RETURN(DomainState * domain, RequireDomain(StringOr(request, "domain")));
  const TypeKey key = KeyOf(Member(request, "workflowType"));
  auto it = domain->workflow_types.find(key);
  if (it == domain->workflow_types.end()) {
    return UnknownResource("Unknown type: " + TypeText("WorkflowType", key));
  }
  const WorkflowTypeState& type = it->second;
  Json configuration = Json::object();
  SetIf(configuration, "defaultTaskStartToCloseTimeout", type.default_task_start_to_close_timeout);
  SetIf(configuration, "defaultExecutionStartToCloseTimeout",
        type.default_execution_start_to_close_timeout);
  if (type.default_task_list)
    configuration["defaultTaskList"] = TaskListJson(*type.default_task_list);
  SetIf(configuration, "defaultTaskPriority", type.default_task_priority);
  SetIf(configuration, "defaultChildPolicy", type.default_child_policy);
  SetIf(configuration, "defaultLambdaRole", type.default_lambda_role);
  return Object("typeInfo", TypeInfo(type, "workflowType"), "configuration", configuration);
}

Result<Json> EngineImpl::ListActivityTypes(const Json& request) {
  ASSIGN_OR_RETURN(DomainState * domain, RequireDomain(StringOr(request, "domain")));
  const bool deprecated = StringOr(request, "registrationStatus") == "DEPRECATED";
  const auto name = OptString(request, "name");
  std::vector<const ActivityTypeState*> matching;
  for (const auto& [key, type] : domain->activity_types) {
    if (type.deprecated == deprecated && (!name || *name == key.first)) matching.push_back(&type);
  }
  if (BoolOr(request, "reverseOrder", false)) std::reverse(matching.begin(), matching.end());
  return PageOf<const ActivityTypeState*>(
      matching, request, "activityTypes", "typeInfos",
      [](const ActivityTypeState* const& t) { return TypeInfo(*t, "activityType"); });
}

Result<Json> EngineImpl::ListWorkflowTypes(const Json& request) {
  ASSIGN_OR_RETURN(DomainState * domain, RequireDomain(StringOr(request, "domain")));
  const bool deprecated = StringOr(request, "registrationStatus") == "DEPRECATED";
  const auto name = OptString(request, "name");
  std::vector<const WorkflowTypeState*> matching;
  for (const auto& [key, type] : domain->workflow_types) {
    if (type.deprecated == deprecated && (!name || *name == key.first)) matching.push_back(&type);
  }
  if (BoolOr(request, "reverseOrder", false)) std::reverse(matching.begin(), matching.end());
  return PageOf<const WorkflowTypeState*>(
      matching, request, "workflowTypes", "typeInfos",
      [](const WorkflowTypeState* const& t) { return TypeInfo(*t, "workflowType"); });
}

namespace {

// Deprecate / Undeprecate / Delete on either kind of type.
template <typename Types>
Result<Json> ChangeType(Types& types, const TypeKey& key, std::string_view kind,
                        std::string_view change, TimePoint now) {
  auto it = types.find(key);
  if (it == types.end()) return UnknownResource("Unknown type: " + TypeText(kind, key));
  auto& type = it->second;
  if (change == "deprecate") {
    if (type.deprecated) return Status(Fault::kTypeDeprecated, TypeText(kind, key));
    type.deprecated = true;
    type.deprecation_date = now;
  } else if (change == "undeprecate") {
    if (!type.deprecated) return Status(Fault::kTypeAlreadyExists, TypeText(kind, key));
    type.deprecated = false;
    type.deprecation_date.reset();
  } else {
    if (!type.deprecated) return Status(Fault::kTypeNotDeprecated, TypeText(kind, key));
    types.erase(it);
  }
  return Json::object();
}

}  // namespace

Result<Json> EngineImpl::DeprecateActivityType(const Json& request) {
  ASSIGN_OR_RETURN(DomainState * domain, RequireDomain(StringOr(request, "domain")));
  return ChangeType(domain->activity_types, KeyOf(Member(request, "activityType")), "ActivityType",
                    "deprecate", now_);
}

Result<Json> EngineImpl::DeprecateWorkflowType(const Json& request) {
  ASSIGN_OR_RETURN(DomainState * domain, RequireDomain(StringOr(request, "domain")));
  return ChangeType(domain->workflow_types, KeyOf(Member(request, "workflowType")), "WorkflowType",
                    "deprecate", now_);
}

Result<Json> EngineImpl::UndeprecateActivityType(const Json& request) {
  ASSIGN_OR_RETURN(DomainState * domain, RequireDomain(StringOr(request, "domain")));
  return ChangeType(domain->activity_types, KeyOf(Member(request, "activityType")), "ActivityType",
                    "undeprecate", now_);
}

Result<Json> EngineImpl::UndeprecateWorkflowType(const Json& request) {
  ASSIGN_OR_RETURN(DomainState * domain, RequireDomain(StringOr(request, "domain")));
  return ChangeType(domain->workflow_types, KeyOf(Member(request, "workflowType")), "WorkflowType",
                    "undeprecate", now_);
}

Result<Json> EngineImpl::DeleteActivityType(const Json& request) {
  ASSIGN_OR_RETURN(DomainState * domain, RequireDomain(StringOr(request, "domain")));
  return ChangeType(domain->activity_types, KeyOf(Member(request, "activityType")), "ActivityType",
                    "delete", now_);
}

Result<Json> EngineImpl::DeleteWorkflowType(const Json& request) {
  ASSIGN_OR_RETURN(DomainState * domain, RequireDomain(StringOr(request, "domain")));
  return ChangeType(domain->workflow_types, KeyOf(Member(request, "workflowType")), "WorkflowType",
                    "delete", now_);
}

// --- tags ------------------------------------------------------------------------------

Result<DomainState*> EngineImpl::DomainForArn(const std::string& arn) {
  const auto pos = arn.find(kArnDomainPart);
  if (arn.rfind("arn:", 0) != 0 || pos == std::string::npos) {
    return UnknownResource("Unknown resource: " + arn);
  }
  DomainState* domain = FindDomain(arn.substr(pos + kArnDomainPart.size()));
  if (domain == nullptr) return UnknownResource("Unknown resource: " + arn);
  return domain;
}

Result<Json> EngineImpl::TagResource(const Json& request) {
  ASSIGN_OR_RETURN(DomainState * domain, DomainForArn(StringOr(request, "resourceArn")));
  const Json& tags = Member(request, "tags");
  std::vector<std::pair<std::string, std::string>> merged = domain->tags;
  MergeTags(merged, tags);
  if (merged.size() > kMaxDomainTags) {
    return Status(Fault::kTooManyTags, "A domain may carry at most 50 tags");
  }
  domain->tags = std::move(merged);
  return Json::object();
}

Result<Json> EngineImpl::UntagResource(const Json& request) {
  ASSIGN_OR_RETURN(DomainState * domain, DomainForArn(StringOr(request, "resourceArn")));
  for (const Json& key : Member(request, "tagKeys")) {
    if (!key.is_string()) continue;
    std::erase_if(domain->tags,
                  [&](const auto& tag) { return tag.first == key.get<std::string>(); });
  }
  return Json::object();
}

Result<Json> EngineImpl::ListTagsForResource(const Json& request) {
  ASSIGN_OR_RETURN(DomainState * domain, DomainForArn(StringOr(request, "resourceArn")));
  Json tags = Json::array();
  for (const auto& [key, value] : domain->tags)
    tags.push_back(Object("key", key, "value", value));
  return Object("tags", std::move(tags));
}

}  // namespace garcon::engine
