// HttpService against moto's SWF server (`python3 -m moto.server`): an SWF
// implementation nobody here wrote. Registers a domain and types, starts an
// execution, takes its decision task, completes it, and reads it back; also
// checks that moto's faults come back as the right Status. Skipped when no
// python3 with moto is found.
#include <gtest/gtest.h>

#include <thread>

#include "client/fake_server.h"
#include "client/subprocess.h"
#include "garcon/client.h"

namespace garcon::client {
namespace {

using std::chrono::milliseconds;

const char* Python() { return GARCON_PYTHON3; }

bool HasMoto() {
  if (std::string(Python()).empty()) return false;
  std::string command = std::string(Python()) + " -c 'import moto.server' >/dev/null 2>&1";
  return std::system(command.c_str()) == 0;
}

class Moto {
 public:
  bool Start() {
    port_ = testing::ClosedPort();
    return process_.Start(
        {Python(), "-m", "moto.server", "-H", "127.0.0.1", "-p", std::to_string(port_)},
        /*capture_stdout=*/false);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  testing::Subprocess process_;
  std::uint16_t port_ = 0;
};

TEST(MotoTest, AFlowOfCallsAgainstMoto) {
  if (!HasMoto()) GTEST_SKIP() << "no python3 with moto (looked for '" << Python() << "')";
  Moto moto;
  ASSERT_TRUE(moto.Start());

  ClientOptions o;
  o.endpoint = moto.url();
  o.region = "us-east-1";
  o.credentials = {"AKIDMOTO", "motosecret", ""};
  o.proxy = "";
  o.max_retries = 0;
  auto created = HttpService::Create(o);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  HttpService& swf = **created;

  // moto takes a few seconds to start on a loaded machine.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  Result<Json> listed = Json::object();
  do {
    listed = swf.Call("ListDomains", {{"registrationStatus", "REGISTERED"}});
    if (listed.ok()) break;
    std::this_thread::sleep_for(milliseconds(200));
  } while (std::chrono::steady_clock::now() < deadline);
  ASSERT_TRUE(listed.ok()) << "moto did not answer: " << listed.status().ToString();

  auto call = [&](std::string_view op, const Json& request) {
    Result<Json> r = swf.Call(op, request);
    EXPECT_TRUE(r.ok()) << op << ": " << r.status().ToString();
    return r.ok() ? *r : Json();
  };

  call("RegisterDomain", {{"name", "garcon-moto"},
                          {"workflowExecutionRetentionPeriodInDays", "1"},
                          {"description", "from the C++ client"}});
  Result<Json> again = swf.Call(
      "RegisterDomain", {{"name", "garcon-moto"}, {"workflowExecutionRetentionPeriodInDays", "1"}});
  EXPECT_EQ(again.fault(), Fault::kDomainAlreadyExists) << again.status().ToString();

  Json domains = call("ListDomains", {{"registrationStatus", "REGISTERED"}});
  bool found = false;
  for (const Json& d : domains["domainInfos"]) found = found || d["name"] == "garcon-moto";
  EXPECT_TRUE(found) << domains.dump();

  Result<Json> unknown = swf.Call("DescribeDomain", {{"name", "no-such-domain"}});
  EXPECT_EQ(unknown.fault(), Fault::kUnknownResource) << unknown.status().ToString();

  call("RegisterWorkflowType", {{"domain", "garcon-moto"},
                                {"name", "flow"},
                                {"version", "1"},
                                {"defaultTaskList", {{"name", "flow-decisions"}}},
                                {"defaultChildPolicy", "TERMINATE"},
                                {"defaultExecutionStartToCloseTimeout", "3600"},
                                {"defaultTaskStartToCloseTimeout", "60"}});
  call("RegisterActivityType", {{"domain", "garcon-moto"},
                                {"name", "step"},
                                {"version", "1"},
                                {"defaultTaskList", {{"name", "flow-activities"}}}});

  Json started =
      call("StartWorkflowExecution", {{"domain", "garcon-moto"},
                                      {"workflowId", "wf-1"},
                                      {"workflowType", {{"name", "flow"}, {"version", "1"}}},
                                      {"input", R"({"x":1})"}});
  ASSERT_TRUE(started.contains("runId")) << started.dump();
  const std::string run_id = started["runId"];

  Json task = call("PollForDecisionTask", {{"domain", "garcon-moto"},
                                           {"taskList", {{"name", "flow-decisions"}}},
                                           {"identity", "moto-test"}});
  ASSERT_TRUE(swf::HasTask(task)) << task.dump();
  EXPECT_EQ(task["workflowExecution"]["runId"], run_id);
  ASSERT_TRUE(task["events"].is_array());
  EXPECT_EQ(task["events"][0]["eventType"], "WorkflowExecutionStarted");
  EXPECT_EQ(task["events"][0]["workflowExecutionStartedEventAttributes"]["input"], R"({"x":1})");

  call("RespondDecisionTaskCompleted",
       {{"taskToken", task["taskToken"]},
        {"decisions",
         {{{"decisionType", "CompleteWorkflowExecution"},
           {"completeWorkflowExecutionDecisionAttributes", {{"result", "done"}}}}}}});

  Json described =
      call("DescribeWorkflowExecution",
           {{"domain", "garcon-moto"}, {"execution", {{"workflowId", "wf-1"}, {"runId", run_id}}}});
  EXPECT_EQ(described["executionInfo"]["executionStatus"], "CLOSED") << described.dump();
  EXPECT_EQ(described["executionInfo"]["closeStatus"], "COMPLETED") << described.dump();

  // The stale token of the completed task: UnknownResourceFault.
  Result<Json> stale = swf.Call("RespondDecisionTaskCompleted",
                                {{"taskToken", task["taskToken"]}, {"decisions", Json::array()}});
  EXPECT_EQ(stale.fault(), Fault::kUnknownResource) << stale.status().ToString();
}

}  // namespace
}  // namespace garcon::client
