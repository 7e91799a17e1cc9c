// Runs each example program as a user would (`<flow> run --json`) and checks
// how the workflow closed and what it returned.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

namespace {

using Json = nlohmann::json;

struct Outcome {
  int exit_code = -1;
  Json summary;  // the last stdout line
};

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

Outcome RunExample(const std::string& name, const std::string& input = "",
                   const std::string& signal = "") {
  std::string command = std::string(GARCON_EXAMPLES_DIR) + "/" + name + " run --json";
  if (!input.empty()) command += " --input " + Quote(input);
  if (!signal.empty()) command += " --signal " + Quote(signal);
  FILE* pipe = popen(command.c_str(), "r");
  EXPECT_NE(pipe, nullptr);
  std::string out;
  std::array<char, 4096> buffer{};
  while (std::fgets(buffer.data(), buffer.size(), pipe) != nullptr) out += buffer.data();
  Outcome outcome;
  const int status = pclose(pipe);
  outcome.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  const auto last = out.rfind('\n');
  outcome.summary = Json::parse(last == std::string::npos ? out : out.substr(last + 1), nullptr,
                                false);
  return outcome;
}

int CountOf(const Json& result, const std::string& prefix) {
  int n = 0;
  for (const auto& [key, value] : result.items()) n += key.rfind(prefix, 0) == 0 ? 1 : 0;
  return n;
}

TEST(ExamplesTest, SimpleFlowRunsAllFourActivities) {
  Outcome o = RunExample("simple_flow");
  ASSERT_EQ(o.exit_code, 0) << o.summary.dump();
  EXPECT_EQ(o.summary["closeStatus"], "COMPLETED");
  const Json& result = o.summary["result"];
  for (const char* key : {"activity_1", "activity_2_task_1", "activity_2_task_2", "activity_3",
                          "activity_4"}) {
    EXPECT_EQ(result.value(key, ""), "done") << key;
  }
  // 4 activities x (scheduled, started, completed) + start/decisions/close.
  EXPECT_GT(o.summary["historyEvents"].get<int>(), 12);
}

TEST(ExamplesTest, SerialFlowPassesValuesDownTheChain) {
  Outcome o = RunExample("serial_flow");
  ASSERT_EQ(o.exit_code, 0) << o.summary.dump();
  const Json& result = o.summary["result"];
  EXPECT_EQ(result["result"], "Now don't be givin him sambuca!");
  EXPECT_EQ(result["b_tasks.saw"], "Now don't be givin him sambuca!");
  EXPECT_EQ(result["c_tasks.saw"], "Now don't be givin him sambuca!");
}

TEST(ExamplesTest, CountryFlowRetriesFailedCountries) {
  // Country 2 fails twice and country 4 three times: within Retry(3).
  Outcome o = RunExample("country_flow", R"({"failures": {"2": 2, "4": 3}})");
  ASSERT_EQ(o.exit_code, 0) << o.summary.dump();
  EXPECT_EQ(o.summary["closeStatus"], "COMPLETED");
  const Json& result = o.summary["result"];
  EXPECT_EQ(CountOf(result, "country."), 5);
  EXPECT_EQ(result["end_of_flow"], true);
  // 5 failed attempts add their events to the 7 activity runs.
  EXPECT_GT(o.summary["historyEvents"].get<int>(), 3 * (7 + 5));
}

TEST(ExamplesTest, CountryFlowFailsWithTheTasksReasonWhenRetriesAreExhausted) {
  Outcome o = RunExample("country_flow", R"({"failures": {"3": 4}})");
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_EQ(o.summary["closeStatus"], "FAILED");
  // The reason names the instance by its generator values and the attempt.
  EXPECT_EQ(o.summary["reason"],
            "activity_2 (generator.country_id=3) attempt 4 of 4: country 3 fails");
  const Json details = Json::parse(o.summary["details"].get<std::string>());
  EXPECT_EQ(details["attempts"], 4);
}

TEST(ExamplesTest, CoffeeShopPaysTheTotalOfBothOrders) {
  Outcome o = RunExample("coffee_shop");
  ASSERT_EQ(o.exit_code, 0) << o.summary.dump();
  const Json& result = o.summary["result"];
  EXPECT_DOUBLE_EQ(result["paid"].get<double>(), 4.75);
  EXPECT_EQ(result["customer.inside"], false);
}

TEST(ExamplesTest, OrderFlowRetriesWithBackoffAwaitsItsApprovalAndShipsAfterADelay) {
  Outcome o = RunExample("order_flow", R"({"inventory_failures": 1, "amount": 12.5})",
                         R"(approved={"approver":"ana"})");
  ASSERT_EQ(o.exit_code, 0) << o.summary.dump();
  const Json& result = o.summary["result"];
  EXPECT_EQ(result["approved_by"], "ana");
  EXPECT_DOUBLE_EQ(result["charged"].get<double>(), 12.5);
  EXPECT_EQ(result["shipped"], true);
  // Packed by the child flow, whose result joined the order's.
  EXPECT_EQ(result["boxes"], 1);
  EXPECT_EQ(result["tracking"], "TRK-1-1");
}

TEST(ExamplesTest, OrderFlowCompletesWhenItsOptionalNotificationFails) {
  Outcome o = RunExample("order_flow", R"({"mail": "down"})", "approved");
  ASSERT_EQ(o.exit_code, 0) << o.summary.dump();
  const Json& result = o.summary["result"];
  EXPECT_EQ(result["shipped"], true);
  ASSERT_EQ(result["notify.failed"].size(), 1u);
  EXPECT_EQ(result["notify.failed"][0]["reason"], "mail service unavailable");
  EXPECT_EQ(result["notify.failed"][0]["attempts"], 2);
}

TEST(ExamplesTest, OrderFlowDoesNotRetryADeclinedCard) {
  Outcome o = RunExample("order_flow", R"({"card": "declined"})", "approved");
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_EQ(o.summary["closeStatus"], "FAILED");
  EXPECT_EQ(o.summary["reason"], "charge attempt 1 of 4: non-retryable: card declined");
  EXPECT_EQ(Json::parse(o.summary["details"].get<std::string>())["attempts"], 1);
}

// The output of `<example> ARGS`.
std::string Output(const std::string& name, const std::string& args) {
  const std::string command = std::string(GARCON_EXAMPLES_DIR) + "/" + name + " " + args;
  FILE* pipe = popen(command.c_str(), "r");
  EXPECT_NE(pipe, nullptr);
  std::string out;
  std::array<char, 4096> buffer{};
  while (std::fgets(buffer.data(), buffer.size(), pipe) != nullptr) out += buffer.data();
  EXPECT_EQ(pclose(pipe), 0) << command;
  return out;
}

TEST(ExamplesTest, GraphPrintsTheFlowAndItsChildFlows) {
  const std::string mermaid = Output("order_flow", "graph");
  EXPECT_NE(mermaid.find("a_reserve --> a_charge"), std::string::npos) << mermaid;
  EXPECT_NE(mermaid.find("child packing_flow@1.0"), std::string::npos) << mermaid;
  EXPECT_NE(mermaid.find("a_pick --> a_pack"), std::string::npos) << mermaid;  // the child's
  EXPECT_NE(Output("simple_flow", "graph --format dot").find("a_activity_3 -> a_activity_4;"),
            std::string::npos);
  const Json graph = Json::parse(Output("simple_flow", "graph --format json"));
  EXPECT_EQ(graph["activities"][1]["runner"], "async");
}

TEST(ExamplesTest, BadInputIsRefusedClearly) {
  Outcome o = RunExample("simple_flow", "[1, 2]");
  EXPECT_EQ(o.exit_code, 2);
}

}  // namespace
