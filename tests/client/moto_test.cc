// HttpService against moto's SWF server (`python3 -m moto.server`): an SWF
// implementation nobody here wrote. Registers a domain and types, starts an
// execution, takes its decision task, completes it, and reads it back; also
// checks that moto's faults come back as the right Status. Skipped when no
// python3 with moto is found.
#include <gtest/gtest.h>

#include <thread>

#include "client/fake_server.h"
#include "client/subprocess.h"
#include "garcon/app.h"
#include "garcon/client.h"
#include "garcon/flow.h"

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

  // A client's options for this server (moto takes any key).
  ClientOptions Options() const {
    ClientOptions o;
    o.endpoint = url();
    o.region = "us-east-1";
    o.credentials = {"AKIDMOTO", "motosecret", ""};
    o.proxy = "";
    return o;
  }

  // Calls until moto answers (it takes a few seconds to start on a loaded
  // machine), for up to 90 s; the last answer.
  static Result<Json> AwaitAnswer(HttpService& swf) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
    Result<Json> listed = Json::object();
    do {
      listed = swf.Call("ListDomains", {{"registrationStatus", "REGISTERED"}});
      if (listed.ok()) break;
      std::this_thread::sleep_for(milliseconds(200));
    } while (std::chrono::steady_clock::now() < deadline);
    return listed;
  }

 private:
  testing::Subprocess process_;
  std::uint16_t port_ = 0;
};

TEST(MotoTest, AFlowOfCallsAgainstMoto) {
  if (!HasMoto()) GTEST_SKIP() << "no python3 with moto (looked for '" << Python() << "')";
  Moto moto;
  ASSERT_TRUE(moto.Start());

  ClientOptions o = moto.Options();
  o.max_retries = 0;
  auto created = HttpService::Create(o);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  HttpService& swf = **created;
  Result<Json> listed = Moto::AwaitAnswer(swf);
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


// Payloads on "Amazon SWF": moto's SWF holds references, moto's S3 the
// values (GARCON_PAYLOAD_BUCKET's store, SigV4 for service s3).
TEST(MotoTest, PayloadsPastSwfsLimitGoToS3) {
  if (!HasMoto()) GTEST_SKIP() << "no python3 with moto (looked for '" << Python() << "')";
  Moto moto;
  ASSERT_TRUE(moto.Start());
  const ClientOptions o = moto.Options();
  auto created = HttpService::Create(o);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  HttpService& swf = **created;
  Result<Json> listed = Moto::AwaitAnswer(swf);
  ASSERT_TRUE(listed.ok()) << "moto did not answer: " << listed.status().ToString();
  // The bucket, made with boto3 (an independent S3 client).
  const std::string make_bucket =
      std::string(Python()) +
      " -c \"import boto3; boto3.client('s3', endpoint_url='" + moto.url() +
      "', region_name='us-east-1', aws_access_key_id='AKIDMOTO', "
      "aws_secret_access_key='motosecret').create_bucket(Bucket='garcon-payloads')\"";
  ASSERT_EQ(std::system(make_bucket.c_str()), 0);

  Environment env = {{"GARCON_PAYLOAD_BUCKET", "s3://garcon-payloads/runs/"},
                     {"AWS_ENDPOINT_URL_S3", moto.url()}};
  auto payloads = PayloadsFromEnvironment(o, env);
  ASSERT_TRUE(payloads.ok()) << payloads.status().ToString();
  ASSERT_TRUE(*payloads);

  // The store alone: put, get back, a missing object is not found.
  auto locator = (*payloads)->Put("moto-payloads", std::string(50000, 'p'));
  ASSERT_TRUE(locator.ok()) << locator.status().ToString();
  EXPECT_EQ(locator->rfind("s3://garcon-payloads/runs/moto-payloads/", 0), 0u) << *locator;
  auto back = (*payloads)->Get("moto-payloads", *locator);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, std::string(50000, 'p'));
  EXPECT_EQ((*payloads)
                ->Get("moto-payloads", "s3://garcon-payloads/runs/moto-payloads/" +
                                           std::string(64, '0'))
                .status()
                .fault(),
            Fault::kUnknownResource);

  // A flow whose values pass SWF's limit, run on moto's SWF.
  Flow flow("moto-payloads", "big_flow");
  auto& make = flow.Activity("make").Run(Sync([](ActivityExecution&, const Context&) {
    return Context{{"made", std::string(100000, 'm')}};
  }));
  flow.Activity("check").Requires({&make}).Run(Sync([](ActivityExecution&, const Context& c) {
    return Context{{"made_length", c.value("made", "").size()}};
  }));
  RunOptions options;
  options.input = {{"seed", std::string(40000, 's')}};
  options.pollers = 1;
  options.payloads = *payloads;
  Result<RunSummary> summary = RunFlow(flow, swf, options);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  ASSERT_EQ(summary->close_status, "COMPLETED") << summary->reason;
  EXPECT_EQ(summary->result.value("made_length", 0), 100000) << summary->result.dump().substr(0, 500);
  EXPECT_EQ(summary->result.value("made", "").size(), 100000u);
}

}  // namespace
}  // namespace garcon::client
