// HttpService against `garcon server` with signatures required: the
// server's SigV4 verifier accepts the client's requests and refuses a wrong
// secret or an unknown key with the fault AWS gives, calls run through, an
// empty long poll comes back as the empty-poll shape. Uses $GARCON_BIN, else the garcon binary of
// this build; skipped when neither exists (the client's build does not build the server).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <thread>

#include "client/subprocess.h"
#include "garcon/app.h"
#include "garcon/client.h"
#include "garcon/flow.h"

namespace garcon::client {
namespace {

using std::chrono::milliseconds;

std::string GarconBinary() {
  if (const char* env = std::getenv("GARCON_BIN"); env != nullptr && *env != '\0') return env;
  return GARCON_BIN_DEFAULT;
}

class GarconServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string bin = GarconBinary();
    if (::access(bin.c_str(), X_OK) != 0) {
      GTEST_SKIP() << "no garcon binary at '" << bin << "' (set GARCON_BIN)";
    }
    char pattern[] = "/tmp/garcon_client_creds_XXXXXX";
    int fd = ::mkstemp(pattern);
    ASSERT_GE(fd, 0);
    ::close(fd);
    credentials_file_ = pattern;
    std::ofstream(credentials_file_) << "AKIDSERVER server/secret+key=\n";
    ASSERT_TRUE(server_.Start({bin, "-q", "server", "--memory", "--port", "0", "--poll-timeout",
                               "1", "--credentials", credentials_file_},
                              /*capture_stdout=*/true));
    std::optional<std::string> line = server_.ReadLine(std::chrono::seconds(60));
    ASSERT_TRUE(line.has_value()) << "garcon server printed nothing";
    // "listening on 127.0.0.1:PORT (store: memory, SigV4 required)"
    std::size_t colon = line->find(':', line->find("127.0.0.1"));
    ASSERT_NE(colon, std::string::npos) << *line;
    endpoint_ = "http://127.0.0.1:" + std::to_string(std::stoi(line->substr(colon + 1)));
  }
  void TearDown() override {
    server_.Stop();
    if (!credentials_file_.empty()) ::unlink(credentials_file_.c_str());
  }

  std::unique_ptr<HttpService> Make(Credentials credentials) {
    ClientOptions o;
    o.endpoint = endpoint_;
    o.region = "us-east-1";
    o.credentials = std::move(credentials);
    o.proxy = "";
    o.max_retries = 0;
    auto s = HttpService::Create(o);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return std::move(*s);
  }

  testing::Subprocess server_;
  std::string credentials_file_;
  std::string endpoint_;
};

TEST_F(GarconServerTest, SignedCallsAndRefusals) {
  auto swf = Make({"AKIDSERVER", "server/secret+key=", "SESSION/TOKEN"});
  Result<Json> r = swf->Call(
      "RegisterDomain", {{"name", "client-test"}, {"workflowExecutionRetentionPeriodInDays", "1"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  r = swf->Call("RegisterDomain",
                {{"name", "client-test"}, {"workflowExecutionRetentionPeriodInDays", "1"}});
  EXPECT_EQ(r.fault(), Fault::kDomainAlreadyExists) << r.status().ToString();
  r = swf->Call("ListDomains", {{"registrationStatus", "REGISTERED"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)["domainInfos"][0]["name"], "client-test");

  // An empty long poll (held 1 s here): the empty shape, no task.
  r = swf->Call("PollForActivityTask",
                {{"domain", "client-test"}, {"taskList", {{"name", "nothing-here"}}}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(swf::HasTask(*r)) << r->dump();

  auto wrong_secret = Make({"AKIDSERVER", "not-the-secret", ""});
  EXPECT_EQ(wrong_secret->Call("ListDomains", {{"registrationStatus", "REGISTERED"}}).fault(),
            Fault::kInvalidSignature);
  auto unknown_key = Make({"AKIDUNKNOWN", "x", ""});
  EXPECT_EQ(unknown_key->Call("ListDomains", {{"registrationStatus", "REGISTERED"}}).fault(),
            Fault::kUnrecognizedClient);
  auto anonymous = Make({});
  EXPECT_EQ(anonymous->Call("ListDomains", {{"registrationStatus", "REGISTERED"}}).fault(),
            Fault::kMissingAuthenticationToken);
}

TEST_F(GarconServerTest, AWorkflowThroughTheClient) {
  auto swf = Make({"AKIDSERVER", "server/secret+key=", ""});
  auto call = [&](std::string_view op, const Json& request) {
    Result<Json> r = swf->Call(op, request);
    EXPECT_TRUE(r.ok()) << op << ": " << r.status().ToString();
    return r.ok() ? *r : Json();
  };
  call("RegisterDomain", {{"name", "d"}, {"workflowExecutionRetentionPeriodInDays", "1"}});
  call("RegisterWorkflowType", {{"domain", "d"},
                                {"name", "flow"},
                                {"version", "1"},
                                {"defaultTaskList", {{"name", "decisions"}}},
                                {"defaultChildPolicy", "TERMINATE"},
                                {"defaultExecutionStartToCloseTimeout", "600"},
                                {"defaultTaskStartToCloseTimeout", "30"}});
  Json started =
      call("StartWorkflowExecution", {{"domain", "d"},
                                      {"workflowId", "w"},
                                      {"workflowType", {{"name", "flow"}, {"version", "1"}}},
                                      {"input", "caf\u00e9"}});
  Json task = call("PollForDecisionTask", {{"domain", "d"}, {"taskList", {{"name", "decisions"}}}});
  ASSERT_TRUE(swf::HasTask(task)) << task.dump();
  EXPECT_EQ(task["events"][0]["workflowExecutionStartedEventAttributes"]["input"], "caf\u00e9");
  call("RespondDecisionTaskCompleted",
       {{"taskToken", task["taskToken"]},
        {"decisions",
         {{{"decisionType", "CompleteWorkflowExecution"},
           {"completeWorkflowExecutionDecisionAttributes", {{"result", "ok"}}}}}}});
  Json described =
      call("DescribeWorkflowExecution",
           {{"domain", "d"}, {"execution", {{"workflowId", "w"}, {"runId", started["runId"]}}}});
  EXPECT_EQ(described["executionInfo"]["closeStatus"], "COMPLETED") << described.dump();
  Result<Json> stale = swf->Call("RespondDecisionTaskCompleted",
                                 {{"taskToken", task["taskToken"]}, {"decisions", Json::array()}});
  EXPECT_EQ(stale.fault(), Fault::kUnknownResource) << stale.status().ToString();
}

}  // namespace
}  // namespace garcon::client

namespace garcon::client {
namespace {

// A flow whose values are far past SWF's 32,768 characters: through garcon
// server they travel as payloads (PutPayload/GetPayload over HTTP, signed).
TEST_F(GarconServerTest, PayloadsPastSwfsLimitThroughTheServer) {
  auto swf = Make({"AKIDSERVER", "server/secret+key=", ""});
  Flow flow("payload-server", "big_flow");
  auto& make = flow.Activity("make").Run(Sync([](ActivityExecution&, const Context& c) {
    return Context{{"made", std::string(100000, 'm') + c.value("seed", "")}};
  }));
  flow.Activity("check").Requires({&make}).Run(Sync([](ActivityExecution&, const Context& c) {
    const std::string made = c.value("made", "");
    return Context{{"made_length", made.size()}, {"doubled", made + made}};
  }));
  RunOptions options;
  options.input = {{"seed", std::string(50000, 's')}};
  options.pollers = 1;
  Result<RunSummary> summary = RunFlow(flow, *swf, options);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  ASSERT_EQ(summary->close_status, "COMPLETED") << summary->reason;
  EXPECT_EQ(summary->result.value("made_length", 0), 150000);
  EXPECT_EQ(summary->result.value("doubled", "").size(), 300000u);
  // The history the server keeps holds references, each event small.
  Result<Json> history = swf->Call(
      "GetWorkflowExecutionHistory",
      {{"domain", "payload-server"},
       {"execution", {{"workflowId", summary->workflow_id}, {"runId", summary->run_id}}}});
  ASSERT_TRUE(history.ok()) << history.status().ToString();
  int references = 0;
  for (const Json& e : (*history)["events"]) {
    EXPECT_LE(e.dump().size(), 40000u);
    references += e.dump().find("garcon.payload") != std::string::npos ? 1 : 0;
  }
  EXPECT_GE(references, 4);  // input, make's result, check's input, result
}

}  // namespace
}  // namespace garcon::client
