// `garcon domain ...`, `garcon type ...` and `garcon tasks count`.
#include <iostream>
#include <memory>

#include "commands.h"
#include "base/status_macros.h"

namespace garcon::tools {
namespace {

// Follows nextPageToken, gathering `key` of every page.
Result<Json> ListAll(Context& context, std::string_view operation, Json request, const char* key) {
  Json all = Json::array();
  for (;;) {
    ASSIGN_OR_RETURN(Json page, context.Call(operation, request));
    for (auto& item : page[key]) all.push_back(std::move(item));
    const std::string token = page.value("nextPageToken", "");
    if (token.empty()) return all;
    request["nextPageToken"] = token;
  }
}

void PrintFields(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::size_t width = 0;
  for (const auto& [name, value] : fields) width = std::max(width, name.size());
  for (const auto& [name, value] : fields) {
    std::cout << name << ":" << std::string(width - name.size() + 1, ' ') << value << "\n";
  }
}

struct DomainArgs {
  std::string name;
  bool deprecated = false;
  int retention_days = 1;
  std::string description;
};

}  // namespace

void AddDomainCommands(CLI::App& app) {
  auto args = std::make_shared<DomainArgs>();
  CLI::App* domain = app.add_subcommand("domain", "List, describe, register and deprecate domains");
  domain->require_subcommand(1);

  CLI::App* list = domain->add_subcommand("list", "List the registered (or deprecated) domains");
  list->add_flag("--deprecated", args->deprecated, "List the deprecated domains instead");
  list->footer("Example:\n  garcon domain list --endpoint http://127.0.0.1:7800");
  SetAction(list, [args](Context& context) -> int {
    auto domains = ListAll(context, "ListDomains",
                           {{"registrationStatus", args->deprecated ? "DEPRECATED" : "REGISTERED"},
                            {"maximumPageSize", 1000}},
                           "domainInfos");
    if (!domains.ok()) return context.exit_code();
    if (context.json()) return PrintJson(*domains), kExitOk;
    std::vector<std::vector<std::string>> rows;
    for (const Json& d : *domains)
      rows.push_back({Str(d, "name"), Str(d, "status"), Str(d, "description")});
    PrintTable({"NAME", "STATUS", "DESCRIPTION"}, rows);
    return int{kExitOk};
  });

  CLI::App* describe = domain->add_subcommand("describe", "Show a domain and its retention");
  describe->add_option("name", args->name, "The domain")->required();
  describe->footer("Example:\n  garcon domain describe dev");
  SetAction(describe, [args](Context& context) -> int {
    auto d = context.Call("DescribeDomain", {{"name", args->name}});
    if (!d.ok()) return context.exit_code();
    if (context.json()) return PrintJson(*d), kExitOk;
    const Json& info = (*d)["domainInfo"];
    PrintFields({{"name", Str(info, "name")},
                 {"status", Str(info, "status")},
                 {"description", Str(info, "description")},
                 {"retention (days)",
                  Str((*d)["configuration"], "workflowExecutionRetentionPeriodInDays")}});
    return int{kExitOk};
  });

  CLI::App* reg = domain->add_subcommand("register", "Register a domain");
  reg->add_option("name", args->name, "The domain")->required();
  reg->add_option("--retention", args->retention_days, "Days a closed execution is kept (0 to 90)")
      ->check(CLI::Range(0, 90))
      ->capture_default_str();
  reg->add_option("--description", args->description, "A description");
  reg->footer(
      "Example:\n  garcon domain register orders --retention 7 --description 'order flows'");
  SetAction(reg, [args](Context& context) -> int {
    Json request = {
        {"name", args->name},
        {"workflowExecutionRetentionPeriodInDays", std::to_string(args->retention_days)}};
    if (!args->description.empty()) request["description"] = args->description;
    if (!context.Call("RegisterDomain", request).ok()) return context.exit_code();
    if (context.json()) return PrintJson({{"name", args->name}, {"status", "REGISTERED"}}), kExitOk;
    std::cout << "domain " << args->name << " registered\n";
    return int{kExitOk};
  });

  for (const bool deprecate : {true, false}) {
    CLI::App* command =
        domain->add_subcommand(deprecate ? "deprecate" : "undeprecate",
                               deprecate ? "Deprecate a domain (no new executions or types)"
                                         : "Register a deprecated domain again");
    command->add_option("name", args->name, "The domain")->required();
    command->footer(deprecate ? "Example:\n  garcon domain deprecate orders"
                              : "Example:\n  garcon domain undeprecate orders");
    SetAction(command, [args, deprecate](Context& context) -> int {
      if (!context.Call(deprecate ? "DeprecateDomain" : "UndeprecateDomain", {{"name", args->name}})
               .ok()) {
        return context.exit_code();
      }
      const char* status = deprecate ? "DEPRECATED" : "REGISTERED";
      if (context.json()) return PrintJson({{"name", args->name}, {"status", status}}), kExitOk;
      std::cout << "domain " << args->name << (deprecate ? " deprecated\n" : " undeprecated\n");
      return int{kExitOk};
    });
  }
}

namespace {
struct TypeArgs {
  bool activity = false;
  bool deprecated = false;
  std::string name;
  std::string version;
};
}  // namespace

void AddTypeCommands(CLI::App& app) {
  auto args = std::make_shared<TypeArgs>();
  CLI::App* type = app.add_subcommand("type", "List and describe workflow and activity types");
  type->require_subcommand(1);

  CLI::App* list =
      type->add_subcommand("list", "List the workflow (or activity) types of the domain");
  list->add_flag("--activity", args->activity, "Activity types instead of workflow types");
  list->add_flag("--deprecated", args->deprecated, "Deprecated types instead of registered ones");
  list->add_option("--name", args->name, "Only the versions of this type");
  list->footer("Examples:\n  garcon type list --domain dev\n  garcon type list --activity --json");
  SetAction(list, [args](Context& context) -> int {
    Json request = {{"domain", context.domain()},
                    {"registrationStatus", args->deprecated ? "DEPRECATED" : "REGISTERED"},
                    {"maximumPageSize", 1000}};
    if (!args->name.empty()) request["name"] = args->name;
    auto types = ListAll(context, args->activity ? "ListActivityTypes" : "ListWorkflowTypes",
                         request, "typeInfos");
    if (!types.ok()) return context.exit_code();
    if (context.json()) return PrintJson(*types), kExitOk;
    std::vector<std::vector<std::string>> rows;
    const char* key = args->activity ? "activityType" : "workflowType";
    for (const Json& t : *types) {
      rows.push_back({Str(t[key], "name"), Str(t[key], "version"), Str(t, "status"),
                      FormatTime(t.value("creationDate", Json()))});
    }
    PrintTable({"NAME", "VERSION", "STATUS", "CREATED"}, rows);
    return int{kExitOk};
  });

  CLI::App* describe = type->add_subcommand("describe", "Show a type's defaults");
  describe->add_option("name", args->name, "The type's name")->required();
  describe->add_option("version", args->version, "The type's version")->required();
  describe->add_flag("--activity", args->activity, "An activity type instead of a workflow type");
  describe->footer(
      "Examples:\n  garcon type describe country_flow 1\n"
      "  garcon type describe country_flow_activity_2 1 --activity");
  SetAction(describe, [args](Context& context) -> int {
    const char* key = args->activity ? "activityType" : "workflowType";
    auto d = context.Call(
        args->activity ? "DescribeActivityType" : "DescribeWorkflowType",
        {{"domain", context.domain()}, {key, {{"name", args->name}, {"version", args->version}}}});
    if (!d.ok()) return context.exit_code();
    if (context.json()) return PrintJson(*d), kExitOk;
    const Json& info = (*d)["typeInfo"];
    std::vector<std::pair<std::string, std::string>> fields = {
        {"name", Str(info[key], "name")},
        {"version", Str(info[key], "version")},
        {"status", Str(info, "status")},
        {"created", FormatTime(info.value("creationDate", Json()))}};
    if (info.contains("description")) fields.emplace_back("description", Str(info, "description"));
    for (const auto& [name, value] : (*d)["configuration"].items()) {
      fields.emplace_back(
          name, value.is_object() ? Str(value, "name") : Str((*d)["configuration"], name.c_str()));
    }
    PrintFields(fields);
    return int{kExitOk};
  });
}

namespace {
struct TaskArgs {
  std::string decision;
  std::string activity;
};
}  // namespace

void AddTaskCommands(CLI::App& app) {
  auto args = std::make_shared<TaskArgs>();
  CLI::App* tasks = app.add_subcommand("tasks", "Pending tasks of a task list");
  tasks->require_subcommand(1);
  CLI::App* count = tasks->add_subcommand("count", "Count the pending tasks of a task list");
  auto* decision = count->add_option("--decision", args->decision, "A decision task list");
  auto* activity = count->add_option("--activity", args->activity, "An activity task list");
  decision->excludes(activity);
  count->require_option(1);
  count->footer(
      "Examples:\n  garcon tasks count --decision country_flow@1\n"
      "  garcon tasks count --activity country_flow_activity_2@1 --json");
  SetAction(count, [args](Context& context) -> int {
    const bool is_decision = !args->decision.empty();
    const std::string& list = is_decision ? args->decision : args->activity;
    auto c = context.Call(is_decision ? "CountPendingDecisionTasks" : "CountPendingActivityTasks",
                          {{"domain", context.domain()}, {"taskList", {{"name", list}}}});
    if (!c.ok()) return context.exit_code();
    const long n = c->value("count", 0L);
    const bool truncated = c->value("truncated", false);
    if (context.json()) {
      return PrintJson({{"taskList", list},
                        {"kind", is_decision ? "decision" : "activity"},
                        {"count", n},
                        {"truncated", truncated}}),
             kExitOk;
    }
    std::cout << n << (truncated ? "+" : "") << " pending "
              << (is_decision ? "decision" : "activity") << " task" << (n == 1 ? "" : "s") << " in "
              << list << "\n";
    return int{kExitOk};
  });
}

}  // namespace garcon::tools
