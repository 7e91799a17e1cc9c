#include "protocol/model.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace garcon::protocol {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

const Model& M() { return Model::Get(); }

Status Validate(std::string_view op, const Json& request) { return M().ValidateInput(op, request); }

std::string Repeat(std::string_view unit, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += unit;
  return out;
}

Json StartRequest() {
  return {{"domain", "d"},
          {"workflowId", "wf-1"},
          {"workflowType", {{"name", "flow"}, {"version", "1.0"}}},
          {"taskList", {{"name", "tl"}}}};
}

// A vector, not a Json: `{decision}` would be an array of one for gcc but a
// copy of the decision for clang.
Json DecisionRequest(const std::vector<Json>& decisions) {
  return {{"taskToken", "tok"}, {"decisions", Json(decisions)}};
}

Json ScheduleActivity(Json attributes) {
  return {{"decisionType", "ScheduleActivityTask"},
          {"scheduleActivityTaskDecisionAttributes", std::move(attributes)}};
}

// --- The model itself ---------------------------------------------------------

TEST(ModelTest, KnowsAllThirtyNineOperations) {
  const auto names = M().OperationNames();
  EXPECT_EQ(names.size(), 39u);
  for (const auto& name : names) {
    EXPECT_TRUE(M().HasOperation(name)) << name;
    EXPECT_EQ(M().InputShape(name), name + "Input") << name;
    EXPECT_TRUE(M().Shape(M().InputShape(name)).is_object()) << name;
  }
  for (const char* name :
       {"RegisterDomain", "StartWorkflowExecution", "PollForDecisionTask", "PollForActivityTask",
        "RespondDecisionTaskCompleted", "RespondActivityTaskCompleted",
        "RecordActivityTaskHeartbeat", "GetWorkflowExecutionHistory", "TagResource",
        "UndeprecateDomain", "CountPendingDecisionTasks"}) {
    EXPECT_TRUE(M().HasOperation(name)) << name;
  }
  EXPECT_FALSE(M().HasOperation("Foo"));
  EXPECT_FALSE(M().HasOperation("registerDomain"));
}

TEST(ModelTest, ShapesOutputsAndErrors) {
  EXPECT_EQ(M().OutputShape("DescribeDomain"), "DomainDetail");
  EXPECT_EQ(M().OutputShape("PollForDecisionTask"), "DecisionTask");
  EXPECT_EQ(M().OutputShape("DeprecateDomain"), "");
  EXPECT_EQ(M().InputShape("Foo"), "");
  EXPECT_EQ(M().OutputShape("Foo"), "");
  EXPECT_TRUE(M().Errors("Foo").empty());

  const auto errors = M().Errors("StartWorkflowExecution");
  for (const char* fault :
       {"UnknownResourceFault", "TypeDeprecatedFault", "WorkflowExecutionAlreadyStartedFault",
        "LimitExceededFault", "OperationNotPermittedFault", "DefaultUndefinedFault"}) {
    EXPECT_NE(std::find(errors.begin(), errors.end(), fault), errors.end()) << fault;
  }
  EXPECT_EQ(M().Errors("RegisterDomain").front(), "DomainAlreadyExistsFault");

  const Json& domain_name = M().Shape("DomainName");
  EXPECT_EQ(domain_name["type"], "string");
  EXPECT_EQ(domain_name["min"], 1);
  EXPECT_EQ(domain_name["max"], 256);
  EXPECT_TRUE(M().Shape("NoSuchShape").is_null());
  EXPECT_EQ(M().raw()["targetPrefix"], "SimpleWorkflowService");
}

// --- Operation and request shape ----------------------------------------------

TEST(ValidateTest, UnknownOperation) {
  const Status s = Validate("Foo", Json::object());
  EXPECT_EQ(s.fault(), Fault::kUnknownOperation);
  EXPECT_EQ(s.message(), "Unknown operation Foo");
}

TEST(ValidateTest, RequestMustBeAnObject) {
  for (const Json& bad : {Json::array(), Json("x"), Json(1), Json(true), Json()}) {
    const Status s = Validate("ListDomains", bad);
    EXPECT_EQ(s.fault(), Fault::kSerialization) << bad.dump();
    EXPECT_THAT(s.message(), HasSubstr("Start of structure or map not found"));
  }
}

TEST(ValidateTest, ValidRequestsPass) {
  EXPECT_TRUE(Validate("StartWorkflowExecution", StartRequest()).ok());
  EXPECT_TRUE(Validate("ListDomains", {{"registrationStatus", "REGISTERED"}}).ok());
  EXPECT_TRUE(
      Validate("RegisterDomain", {{"name", "d"}, {"workflowExecutionRetentionPeriodInDays", "1"}})
          .ok());
  EXPECT_TRUE(Validate("PollForDecisionTask", {{"domain", "d"},
                                               {"taskList", {{"name", "tl"}}},
                                               {"identity", "me"},
                                               {"maximumPageSize", 100},
                                               {"reverseOrder", true}})
                  .ok());
}

// --- Required members ---------------------------------------------------------

TEST(ValidateTest, MissingRequiredMember) {
  const Status s = Validate("ListDomains", Json::object());
  EXPECT_EQ(s.fault(), Fault::kValidation);
  EXPECT_EQ(s.message(),
            "1 validation error detected: Value null at 'registrationStatus' failed to satisfy "
            "constraint: Member must not be null");
}

TEST(ValidateTest, NullIsAbsent) {
  Json request = {{"registrationStatus", nullptr}};
  EXPECT_EQ(Validate("ListDomains", request).fault(), Fault::kValidation);
  request = {{"registrationStatus", "REGISTERED"},
             {"nextPageToken", nullptr},
             {"maximumPageSize", nullptr}};
  EXPECT_TRUE(Validate("ListDomains", request).ok());
}

TEST(ValidateTest, CollectsAllErrors) {
  const Status s = Validate("RegisterDomain", {{"description", Repeat("x", 1025)}});
  EXPECT_EQ(s.fault(), Fault::kValidation);
  EXPECT_THAT(s.message(), StartsWith("3 validation errors detected: "));
  EXPECT_THAT(s.message(), HasSubstr("Value null at 'name' failed to satisfy constraint: "
                                     "Member must not be null"));
  EXPECT_THAT(s.message(), HasSubstr("Value null at 'workflowExecutionRetentionPeriodInDays'"));
  EXPECT_THAT(s.message(), HasSubstr("at 'description' failed to satisfy constraint: Member "
                                     "must have length less than or equal to 1024"));
  EXPECT_THAT(s.message(), HasSubstr("; Value "));
}

TEST(ValidateTest, NestedRequiredMember) {
  Json request = StartRequest();
  request["taskList"] = Json::object();
  request["workflowType"].erase("version");
  const Status s = Validate("StartWorkflowExecution", request);
  EXPECT_EQ(s.fault(), Fault::kValidation);
  EXPECT_THAT(s.message(), StartsWith("2 validation errors detected: "));
  EXPECT_THAT(s.message(), HasSubstr("Value null at 'taskList.name' failed to satisfy "
                                     "constraint: Member must not be null"));
  EXPECT_THAT(s.message(), HasSubstr("Value null at 'workflowType.version'"));
}

// --- Lengths ------------------------------------------------------------------

TEST(ValidateTest, StringLengthBoundary) {
  Json request = {{"name", Repeat("a", 256)}, {"workflowExecutionRetentionPeriodInDays", "1"}};
  EXPECT_TRUE(Validate("RegisterDomain", request).ok());

  request["name"] = Repeat("a", 257);
  const Status s = Validate("RegisterDomain", request);
  EXPECT_EQ(s.fault(), Fault::kValidation);
  EXPECT_EQ(s.message(), "1 validation error detected: Value '" + Repeat("a", 257) +
                             "' at 'name' failed to satisfy constraint: Member must have length "
                             "less than or equal to 256");

  request["name"] = "";
  const Status empty = Validate("RegisterDomain", request);
  EXPECT_EQ(empty.fault(), Fault::kValidation);
  EXPECT_THAT(empty.message(), HasSubstr("Value '' at 'name' failed to satisfy constraint: "
                                         "Member must have length greater than or equal to 1"));
}

TEST(ValidateTest, LengthCountsCharactersNotBytes) {
  for (const char* unit : {"\u00e9", "\u4e2d", "\U0001F600"}) {
    Json request = {{"name", Repeat(unit, 256)}, {"workflowExecutionRetentionPeriodInDays", "1"}};
    EXPECT_TRUE(Validate("RegisterDomain", request).ok()) << unit;
    request["name"] = Repeat(unit, 257);
    const Status s = Validate("RegisterDomain", request);
    EXPECT_EQ(s.fault(), Fault::kValidation) << unit;
    EXPECT_THAT(s.message(), HasSubstr("less than or equal to 256"));
  }
}

TEST(ValidateTest, VersionMaxIs64) {
  Json request = StartRequest();
  request["workflowType"]["version"] = Repeat("v", 64);
  EXPECT_TRUE(Validate("StartWorkflowExecution", request).ok());
  request["workflowType"]["version"] = Repeat("v", 65);
  const Status s = Validate("StartWorkflowExecution", request);
  EXPECT_EQ(s.fault(), Fault::kValidation);
  EXPECT_THAT(s.message(), HasSubstr("at 'workflowType.version' failed to satisfy constraint: "
                                     "Member must have length less than or equal to 64"));
}

TEST(ValidateTest, ListLength) {
  Json request = StartRequest();
  request["tagList"] = {"a", "b", "c", "d", "e"};
  EXPECT_TRUE(Validate("StartWorkflowExecution", request).ok());
  request["tagList"].push_back("f");
  const Status s = Validate("StartWorkflowExecution", request);
  EXPECT_EQ(s.fault(), Fault::kValidation);
  EXPECT_THAT(s.message(),
              HasSubstr("Value '[a, b, c, d, e, f]' at 'tagList' failed to satisfy "
                        "constraint: Member must have length less than or equal to 5"));
}

TEST(ValidateTest, ListItemsAreValidated) {
  Json request = StartRequest();
  request["tagList"] = {"a", Repeat("t", 257)};
  const Status s = Validate("StartWorkflowExecution", request);
  EXPECT_EQ(s.fault(), Fault::kValidation);
  EXPECT_THAT(s.message(), HasSubstr("at 'tagList.2.member' failed to satisfy constraint"));
}

// --- Enums and integers -------------------------------------------------------

TEST(ValidateTest, EnumViolation) {
  const Status s = Validate("ListDomains", {{"registrationStatus", "ACTIVE"}});
  EXPECT_EQ(s.fault(), Fault::kValidation);
  EXPECT_EQ(s.message(),
            "1 validation error detected: Value 'ACTIVE' at 'registrationStatus' failed to "
            "satisfy constraint: Member must satisfy enum value set: [REGISTERED, DEPRECATED]");

  Json request = StartRequest();
  request["childPolicy"] = "KILL";
  const Status child = Validate("StartWorkflowExecution", request);
  EXPECT_EQ(child.fault(), Fault::kValidation);
  EXPECT_THAT(child.message(), HasSubstr("Member must satisfy enum value set: [TERMINATE, "
                                         "REQUEST_CANCEL, ABANDON]"));
}

TEST(ValidateTest, IntegerBounds) {
  Json request = {{"registrationStatus", "REGISTERED"}, {"maximumPageSize", 1000}};
  EXPECT_TRUE(Validate("ListDomains", request).ok());
  request["maximumPageSize"] = 0;
  EXPECT_TRUE(Validate("ListDomains", request).ok());
  request["maximumPageSize"] = 1000.0;  // A number with no fraction is an integer.
  EXPECT_TRUE(Validate("ListDomains", request).ok());

  request["maximumPageSize"] = 1001;
  Status s = Validate("ListDomains", request);
  EXPECT_EQ(s.fault(), Fault::kValidation);
  EXPECT_EQ(s.message(),
            "1 validation error detected: Value '1001' at 'maximumPageSize' failed to satisfy "
            "constraint: Member must have value less than or equal to 1000");

  request["maximumPageSize"] = -1;
  s = Validate("ListDomains", request);
  EXPECT_EQ(s.fault(), Fault::kValidation);
  EXPECT_THAT(s.message(), HasSubstr("Member must have value greater than or equal to 0"));
}

TEST(ValidateTest, IntegerTypeErrors) {
  for (const Json& bad :
       {Json("10"), Json(true), Json(1.5), Json(3000000000LL),
        Json(std::numeric_limits<std::uint64_t>::max()), Json::array(), Json::object()}) {
    const Json request = {{"registrationStatus", "REGISTERED"}, {"maximumPageSize", bad}};
    const Status s = Validate("ListDomains", request);
    EXPECT_EQ(s.fault(), Fault::kSerialization) << bad.dump();
    EXPECT_THAT(s.message(), HasSubstr("'maximumPageSize'")) << bad.dump();
  }
  const Status s =
      Validate("ListDomains", {{"registrationStatus", "REGISTERED"}, {"maximumPageSize", "10"}});
  EXPECT_EQ(s.message(), "STRING_VALUE can not be converted to an Integer at 'maximumPageSize'");
}

// --- JSON types ---------------------------------------------------------------

TEST(ValidateTest, WrongTypesAreSerializationErrors) {
  struct Case {
    const char* op;
    Json request;
    const char* needle;
  };
  const Case cases[] = {
      {"DescribeDomain", {{"name", 5}}, "NUMBER_VALUE can not be converted to a String at 'name'"},
      {"DescribeDomain", {{"name", true}}, "at 'name'"},
      {"DescribeDomain",
       {{"name", {{"a", 1}}}},
       "Start of structure or map found where not expected at 'name'"},
      {"DescribeDomain", {{"name", {"a"}}}, "Start of list found where not expected at 'name'"},
      {"StartWorkflowExecution",
       [] {
         Json r = StartRequest();
         r["taskList"] = "tl";
         return r;
       }(),
       "Start of structure or map not found at 'taskList'"},
      {"StartWorkflowExecution",
       [] {
         Json r = StartRequest();
         r["tagList"] = "a";
         return r;
       }(),
       "Start of list not found at 'tagList'"},
      {"ListDomains",
       {{"registrationStatus", "REGISTERED"}, {"reverseOrder", "true"}},
       "STRING_VALUE can not be converted to a Boolean at 'reverseOrder'"},
      {"ListOpenWorkflowExecutions",
       {{"domain", "d"}, {"startTimeFilter", {{"oldestDate", "2024-01-01T00:00:00Z"}}}},
       "at 'startTimeFilter.oldestDate'"},
  };
  for (const auto& c : cases) {
    const Status s = Validate(c.op, c.request);
    EXPECT_EQ(s.fault(), Fault::kSerialization) << c.request.dump();
    EXPECT_THAT(s.message(), HasSubstr(c.needle)) << c.request.dump();
  }
}

TEST(ValidateTest, TimestampsAreNumbers) {
  Json request = {{"domain", "d"}, {"startTimeFilter", {{"oldestDate", 0}}}};
  EXPECT_TRUE(Validate("ListOpenWorkflowExecutions", request).ok());
  request["startTimeFilter"]["latestDate"] = 1700000000.25;
  EXPECT_TRUE(Validate("ListOpenWorkflowExecutions", request).ok());
}

TEST(ValidateTest, SerializationErrorWinsOverValidation) {
  // registrationStatus is missing (validation) and maximumPageSize is a string.
  const Status s = Validate("ListDomains", {{"maximumPageSize", "x"}});
  EXPECT_EQ(s.fault(), Fault::kSerialization);
}

TEST(ValidateTest, UnknownMembersIgnored) {
  Json request = StartRequest();
  request["colour"] = "blue";
  request["nested"] = {{"anything", {1, 2, 3}}};
  request["workflowType"]["extra"] = 5;
  EXPECT_TRUE(Validate("StartWorkflowExecution", request).ok());
}

// --- Nested decisions ---------------------------------------------------------

TEST(ValidateTest, DecisionAttributesValidated) {
  const Json timer = {
      {"decisionType", "StartTimer"},
      {"startTimerDecisionAttributes", {{"timerId", "t1"}, {"startToFireTimeout", "5"}}}};
  const Json schedule =
      ScheduleActivity({{"activityType", {{"name", "a"}, {"version", "1"}}}, {"activityId", "a1"}});
  EXPECT_TRUE(Validate("RespondDecisionTaskCompleted", DecisionRequest({timer, schedule})).ok());

  Json no_id = schedule;
  no_id["scheduleActivityTaskDecisionAttributes"].erase("activityId");
  const Status s = Validate("RespondDecisionTaskCompleted", DecisionRequest({timer, no_id}));
  EXPECT_EQ(s.fault(), Fault::kValidation);
  EXPECT_EQ(s.message(),
            "1 validation error detected: Value null at "
            "'decisions.2.member.scheduleActivityTaskDecisionAttributes.activityId' failed to "
            "satisfy constraint: Member must not be null");
}

TEST(ValidateTest, DecisionTypeEnumAndNesting) {
  const Json bad_type = {{"decisionType", "Explode"}};
  Status s = Validate("RespondDecisionTaskCompleted", DecisionRequest({bad_type}));
  EXPECT_EQ(s.fault(), Fault::kValidation);
  EXPECT_THAT(s.message(), HasSubstr("at 'decisions.1.member.decisionType' failed to satisfy "
                                     "constraint: Member must satisfy enum value set: ["));

  const Json long_control = ScheduleActivity({{"activityType", {{"name", "a"}, {"version", "1"}}},
                                              {"activityId", "a1"},
                                              {"control", Repeat("c", 32769)}});
  s = Validate("RespondDecisionTaskCompleted", DecisionRequest({long_control}));
  EXPECT_EQ(s.fault(), Fault::kValidation);
  EXPECT_THAT(s.message(), HasSubstr("at 'decisions.1.member.scheduleActivityTaskDecisionAttribu"
                                     "tes.control' failed to satisfy constraint: Member must "
                                     "have length less than or equal to 32768"));

  const Json wrong_type = {{"decisionType", "StartTimer"}, {"startTimerDecisionAttributes", 7}};
  s = Validate("RespondDecisionTaskCompleted", DecisionRequest({wrong_type}));
  EXPECT_EQ(s.fault(), Fault::kSerialization);
  EXPECT_THAT(s.message(), HasSubstr("'decisions.1.member.startTimerDecisionAttributes'"));

  s = Validate("RespondDecisionTaskCompleted", DecisionRequest({nullptr}));
  EXPECT_EQ(s.fault(), Fault::kValidation);
  EXPECT_THAT(s.message(), HasSubstr("Value null at 'decisions.1.member'"));
}

// --- SWF's name rules ---------------------------------------------------------

TEST(NameRuleTest, IsValidSwfName) {
  EXPECT_TRUE(IsValidSwfName("a"));
  EXPECT_TRUE(IsValidSwfName("arnold"));
  EXPECT_TRUE(IsValidSwfName("ARN"));
  EXPECT_TRUE(IsValidSwfName("my-domain_1.0 with spaces"));
  EXPECT_TRUE(IsValidSwfName("\u00e9t\u00e9 \u4e2d \U0001F600"));
  EXPECT_TRUE(IsValidSwfName("\u00a0"));  // NBSP is not a control character.
  EXPECT_TRUE(IsValidSwfName(Repeat("\u00e9", 256)));

  EXPECT_FALSE(IsValidSwfName(""));
  EXPECT_FALSE(IsValidSwfName(Repeat("a", 257)));
  EXPECT_FALSE(IsValidSwfName("arn"));
  for (const char* bad : {"a:b", "a/b", "a|b", "a\u0001b", "a\tb", "a\nb", "a\u001fb", "a\u007fb",
                          "a\u0085b", "a\u009fb"}) {
    EXPECT_FALSE(IsValidSwfName(bad)) << bad;
  }
  EXPECT_FALSE(IsValidSwfName(std::string_view("a\0b", 3)));
  EXPECT_FALSE(IsValidSwfName("a\xff"));         // Invalid UTF-8.
  EXPECT_FALSE(IsValidSwfName("\xc2"));          // Truncated sequence.
  EXPECT_FALSE(IsValidSwfName("\xc0\xba"));      // Overlong ':'.
  EXPECT_FALSE(IsValidSwfName("\xed\xa0\x80"));  // Surrogate.
}

TEST(NameRuleTest, CharacterCount) {
  EXPECT_EQ(CharacterCount(""), 0u);
  EXPECT_EQ(CharacterCount("abc"), 3u);
  EXPECT_EQ(CharacterCount("\u00e9"), 1u);
  EXPECT_EQ(CharacterCount("\u4e2d\u6587"), 2u);
  EXPECT_EQ(CharacterCount("\U0001F600x"), 2u);
  EXPECT_EQ(CharacterCount("a\xff"
                           "b"),
            3u);                              // Invalid bytes count one each.
  EXPECT_EQ(CharacterCount("\xe4\xb8"), 2u);  // Truncated sequence.
}

TEST(NameRuleTest, AppliedToCreatedNames) {
  for (const char* bad : {"a:b", "a/b", "a|b", "a\u0001b", "a\u007fb", "a\u0085b", "arn"}) {
    Json request = StartRequest();
    request["workflowId"] = bad;
    Status s = Validate("StartWorkflowExecution", request);
    EXPECT_EQ(s.fault(), Fault::kValidation) << bad;
    EXPECT_THAT(s.message(), HasSubstr("at 'workflowId' failed to satisfy constraint: Member must "
                                       "not contain ':', '/', '|'"));

    request = StartRequest();
    request["taskList"]["name"] = bad;
    s = Validate("StartWorkflowExecution", request);
    EXPECT_EQ(s.fault(), Fault::kValidation) << bad;
    EXPECT_THAT(s.message(), HasSubstr("at 'taskList.name' failed"));

    s = Validate("RegisterDomain",
                 {{"name", bad}, {"workflowExecutionRetentionPeriodInDays", "1"}});
    EXPECT_EQ(s.fault(), Fault::kValidation) << bad;
    EXPECT_THAT(s.message(), HasSubstr("at 'name' failed"));

    s = Validate("RegisterActivityType", {{"domain", "d"}, {"name", "a"}, {"version", bad}});
    EXPECT_EQ(s.fault(), Fault::kValidation) << bad;
    EXPECT_THAT(s.message(), HasSubstr("at 'version' failed"));

    s = Validate(
        "RegisterWorkflowType",
        {{"domain", "d"}, {"name", "w"}, {"version", "1"}, {"defaultTaskList", {{"name", bad}}}});
    EXPECT_EQ(s.fault(), Fault::kValidation) << bad;
    EXPECT_THAT(s.message(), HasSubstr("at 'defaultTaskList.name' failed"));

    s = Validate("PollForActivityTask", {{"domain", "d"}, {"taskList", {{"name", bad}}}});
    EXPECT_EQ(s.fault(), Fault::kValidation) << bad;

    const Json schedule = ScheduleActivity(
        {{"activityType", {{"name", "a"}, {"version", "1"}}}, {"activityId", bad}});
    s = Validate("RespondDecisionTaskCompleted", DecisionRequest({schedule}));
    EXPECT_EQ(s.fault(), Fault::kValidation) << bad;
    EXPECT_THAT(s.message(),
                HasSubstr("at 'decisions.1.member.scheduleActivityTaskDecisionAttributes."
                          "activityId' failed"));

    const Json timer = {
        {"decisionType", "StartTimer"},
        {"startTimerDecisionAttributes", {{"timerId", bad}, {"startToFireTimeout", "5"}}}};
    s = Validate("RespondDecisionTaskCompleted", DecisionRequest({timer}));
    EXPECT_EQ(s.fault(), Fault::kValidation) << bad;
    EXPECT_THAT(s.message(), HasSubstr("startTimerDecisionAttributes.timerId' failed"));
  }
}

TEST(NameRuleTest, ArnoldAndFriendsAreFine) {
  Json request = StartRequest();
  request["workflowId"] = "arnold";
  request["domain"] = "arn-domain";
  request["taskList"]["name"] = "arn.tl";
  EXPECT_TRUE(Validate("StartWorkflowExecution", request).ok());
}

TEST(NameRuleTest, OneErrorPerMember) {
  // Too long and containing ':' reports only the length.
  Json request = StartRequest();
  request["workflowId"] = Repeat(":", 257);
  const Status s = Validate("StartWorkflowExecution", request);
  EXPECT_EQ(s.fault(), Fault::kValidation);
  EXPECT_THAT(s.message(), StartsWith("1 validation error detected: "));
  EXPECT_THAT(s.message(), HasSubstr("less than or equal to 256"));
}

TEST(NameRuleTest, NotAppliedToReferencesOrFreeText) {
  // A lookup of a name that cannot exist is left to the engine
  // (UnknownResourceFault), as are markers, signals and free text.
  EXPECT_TRUE(Validate("DescribeDomain", {{"name", "a:b"}}).ok());
  const Json marker = {{"decisionType", "RecordMarker"},
                       {"recordMarkerDecisionAttributes", {{"markerName", "a:b"}}}};
  EXPECT_TRUE(Validate("RespondDecisionTaskCompleted", DecisionRequest({marker})).ok());
  Json request = StartRequest();
  request["input"] = "a:b/c|d";
  EXPECT_TRUE(Validate("StartWorkflowExecution", request).ok());
}

}  // namespace
}  // namespace garcon::protocol
