// garcon server over a real loopback socket: the wire format, faults that
// leave the server serving, long polls, clients leaving mid-poll, timeouts,
// signatures and shutdown.
#include "garcon/server.h"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <cmath>
#include <fstream>
#include <future>
#include <limits>
#include <thread>

#include "garcon/engine.h"
#include "protocol/sigv4.h"
#include "server/raw_client.h"
#include "server/wire.h"

namespace garcon::server {
namespace {

using testing::RawClient;
using testing::RawResponse;
using namespace std::chrono_literals;

template <typename Pred>
bool WaitFor(Pred pred, std::chrono::milliseconds timeout = 5000ms) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return pred();
}

Json BodyOf(const RawResponse& r) { return Json::parse(r.body, nullptr, false); }

std::string TypeOf(const RawResponse& r) {
  Json body = BodyOf(r);
  return body.is_object() ? body.value("__type", "") : "";
}

class ServerTest : public ::testing::Test {
 protected:
  void Start(ServerOptions options = {}, Duration poll_timeout = 60s) {
    engine::EngineOptions eo;
    eo.poll_timeout = poll_timeout;
    engine_ = std::make_unique<engine::Engine>(eo);
    options.port = 0;
    server_ = std::make_unique<HttpServer>(*engine_, options);
    Status started = server_->Start();
    ASSERT_TRUE(started.ok()) << started.ToString();
    ASSERT_NE(server_->port(), 0);
  }

  void TearDown() override {
    if (server_) server_->Stop();
    server_.reset();
    engine_.reset();
  }

  std::uint16_t port() const { return server_->port(); }

  // A domain "d" with workflow type "wf"/"1" and activity type "act"/"1".
  void RegisterBasics() {
    ASSERT_TRUE(engine_
                    ->Call("RegisterDomain",
                           {{"name", "d"}, {"workflowExecutionRetentionPeriodInDays", "1"}})
                    .ok());
    ASSERT_TRUE(
        engine_->Call("RegisterWorkflowType", {{"domain", "d"}, {"name", "wf"}, {"version", "1"}})
            .ok());
  }

  Result<Json> StartWorkflow(const std::string& id) {
    return engine_->Call("StartWorkflowExecution",
                         {{"domain", "d"},
                          {"workflowId", id},
                          {"workflowType", {{"name", "wf"}, {"version", "1"}}},
                          {"taskList", {{"name", "tl"}}},
                          {"executionStartToCloseTimeout", "600"},
                          {"taskStartToCloseTimeout", "60"},
                          {"childPolicy", "TERMINATE"}});
  }

  static std::string DecisionPoll(const std::string& identity) {
    return Json{{"domain", "d"}, {"taskList", {{"name", "tl"}}}, {"identity", identity}}.dump();
  }

  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(ServerTest, HealthAndMetrics) {
  Start();
  RawClient c(port());
  ASSERT_TRUE(c.Send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto health = c.ReadResponse();
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(health->body, R"({"status":"ok"})");

  ASSERT_TRUE(c.Call("ListDomains", R"({"registrationStatus":"REGISTERED"})"));
  ASSERT_TRUE(c.Send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto metrics = c.ReadResponse();
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_NE(metrics->Header("content-type").find("text/plain"), std::string::npos);
  EXPECT_NE(metrics->body.find(R"(garcon_requests_total{operation="ListDomains",status="200"} 1)"),
            std::string::npos)
      << metrics->body;
  EXPECT_NE(metrics->body.find("garcon_open_executions 0"), std::string::npos);
  EXPECT_NE(metrics->body.find("garcon_poll_waiters 0"), std::string::npos);
}

TEST_F(ServerTest, SuccessHasRequestIdAndJsonOnAKeepAliveConnection) {
  Start();
  RawClient c(port());
  auto r1 =
      c.Call("RegisterDomain", R"({"name":"d","workflowExecutionRetentionPeriodInDays":"1"})");
  ASSERT_TRUE(r1);
  EXPECT_EQ(r1->status, 200);
  EXPECT_EQ(r1->Header("content-type"), "application/x-amz-json-1.0");
  EXPECT_EQ(r1->Header("x-amzn-requestid").size(), 36u);
  auto r2 = c.Call("ListDomains", R"({"registrationStatus":"REGISTERED"})");
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->status, 200);
  EXPECT_EQ(BodyOf(*r2)["domainInfos"][0]["name"], "d");
  EXPECT_NE(r1->Header("x-amzn-requestid"), r2->Header("x-amzn-requestid"));
}

TEST_F(ServerTest, FaultsUseAwsTypesAndTheConnectionKeepsServing) {
  Start();
  RawClient c(port());
  auto unknown_resource = c.Call("DescribeDomain", R"({"name":"nope"})");
  ASSERT_TRUE(unknown_resource);
  EXPECT_EQ(unknown_resource->status, 400);
  EXPECT_EQ(TypeOf(*unknown_resource), "com.amazonaws.swf.base.model#UnknownResourceFault");
  EXPECT_EQ(unknown_resource->Header("x-amzn-errortype"), "UnknownResourceFault");
  EXPECT_FALSE(BodyOf(*unknown_resource).value("message", "").empty());

  auto unknown_op = c.Call("MakeCoffee", "{}");
  ASSERT_TRUE(unknown_op);
  EXPECT_EQ(unknown_op->status, 400);
  EXPECT_EQ(TypeOf(*unknown_op), "com.amazon.coral.service#UnknownOperationException");

  auto bad_json = c.Call("ListDomains", R"({"registrationStatus": )");
  ASSERT_TRUE(bad_json);
  EXPECT_EQ(bad_json->status, 400);
  EXPECT_EQ(TypeOf(*bad_json), "com.amazon.coral.service#SerializationException");

  auto not_object = c.Call("ListDomains", "[1,2]");
  ASSERT_TRUE(not_object);
  EXPECT_EQ(TypeOf(*not_object), "com.amazon.coral.service#SerializationException");

  auto wrong_type = c.Call("DescribeDomain", R"({"name": 5})");
  ASSERT_TRUE(wrong_type);
  EXPECT_EQ(TypeOf(*wrong_type), "com.amazon.coral.service#SerializationException");

  auto invalid = c.Call("ListDomains", R"({"registrationStatus":"MAYBE"})");
  ASSERT_TRUE(invalid);
  EXPECT_EQ(invalid->status, 400);
  EXPECT_EQ(TypeOf(*invalid), "com.amazon.coral.validate#ValidationException");

  ASSERT_TRUE(c.Send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"));
  auto no_target = c.ReadResponse();
  ASSERT_TRUE(no_target);
  EXPECT_EQ(TypeOf(*no_target), "com.amazon.coral.service#UnknownOperationException");

  auto ok = c.Call("ListDomains", R"({"registrationStatus":"REGISTERED"})");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
}

TEST_F(ServerTest, EmptyBodyCountsAsAnEmptyObject) {
  Start();
  RawClient c(port());
  auto r = c.Call("ListDomains", "");
  ASSERT_TRUE(r);
  // registrationStatus is required: the engine's validation answers.
  EXPECT_EQ(TypeOf(*r), "com.amazon.coral.validate#ValidationException");
}

TEST_F(ServerTest, OversizeBodyIsRefusedWithoutReadingIt) {
  ServerOptions options;
  options.max_body_bytes = 1 << 20;
  Start(options);
  RawClient c(port());
  // Announce 2 MB, send only the headers: the answer must not wait for the body.
  ASSERT_TRUE(
      c.Send("POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: "
             "SimpleWorkflowService.ListDomains\r\nContent-Length: 2097152\r\n\r\n"));
  auto r = c.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(TypeOf(*r), "com.amazon.coral.validate#ValidationException");
  EXPECT_NE(BodyOf(*r)["message"].get<std::string>().find("exceeds the limit of 1048576 bytes"),
            std::string::npos);
  EXPECT_TRUE(c.WaitClosed());

  // Chunked bodies over the limit too.
  RawClient chunked(port());
  std::string big(700 * 1024, 'x');
  char size_line[32];
  std::snprintf(size_line, sizeof size_line, "%zx\r\n", big.size());
  ASSERT_TRUE(
      chunked.Send("POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: "
                   "SimpleWorkflowService.ListDomains\r\nTransfer-Encoding: chunked\r\n\r\n"));
  chunked.Send(std::string(size_line) + big + "\r\n" + size_line + big + "\r\n0\r\n\r\n");
  auto r2 = chunked.ReadResponse();
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->status, 413);

  RawClient after(port());
  auto ok = after.Call("ListDomains", R"({"registrationStatus":"REGISTERED"})");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
}

TEST_F(ServerTest, MalformedHttpIs400AndClosed) {
  Start();
  for (const std::string& garbage :
       {std::string("GARBAGE\r\n\r\n"), std::string("POST / HTTP/9.9\r\n\r\n"),
        std::string("POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n"),
        std::string("POST / HTTP/1.1\r\nBad Header Line\r\n\r\n")}) {
    SCOPED_TRACE(garbage);
    RawClient c(port());
    ASSERT_TRUE(c.Send(garbage));
    auto r = c.ReadResponse();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400);
    EXPECT_EQ(r->Header("connection"), "close");
    EXPECT_TRUE(c.WaitClosed());
  }
  RawClient huge_headers(port());
  ASSERT_TRUE(
      huge_headers.Send("GET /health HTTP/1.1\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n"));
  auto r = huge_headers.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 431);

  RawClient after(port());
  ASSERT_TRUE(after.Send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto ok = after.ReadResponse();
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
}

TEST_F(ServerTest, OtherPathsAndMethods) {
  Start();
  RawClient c(port());
  ASSERT_TRUE(c.Send("GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto not_found = c.ReadResponse();
  ASSERT_TRUE(not_found);
  EXPECT_EQ(not_found->status, 404);
  ASSERT_TRUE(c.Send("PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"));
  auto not_allowed = c.ReadResponse();
  ASSERT_TRUE(not_allowed);
  EXPECT_EQ(not_allowed->status, 405);
  // GET / is a person with a browser: sent to the console.
  ASSERT_TRUE(c.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto redirect = c.ReadResponse();
  ASSERT_TRUE(redirect);
  EXPECT_EQ(redirect->status, 302);
  EXPECT_EQ(redirect->Header("location"), "/console");
}

TEST_F(ServerTest, ServesTheConsole) {
  Start();
  RawClient c(port());
  ASSERT_TRUE(c.Send("GET /console HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto page = c.ReadResponse();
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_EQ(page->Header("content-type"), "text/html; charset=utf-8");
  EXPECT_NE(page->body.find("<script src=\"/console/console.js\""), std::string::npos);
  EXPECT_EQ(page->Header("cache-control"), "no-cache");
  EXPECT_NE(page->Header("content-security-policy").find("default-src 'none'"), std::string::npos);
  EXPECT_EQ(page->Header("x-content-type-options"), "nosniff");
  const std::string etag = page->Header("etag");
  ASSERT_EQ(etag.size(), 22u) << etag;  // 20 hex digits, quoted
  EXPECT_EQ(etag.front(), '"');

  // Unchanged: 304 without the body.
  ASSERT_TRUE(c.Send("GET /console/ HTTP/1.1\r\nHost: x\r\nIf-None-Match: " + etag + "\r\n\r\n"));
  auto same = c.ReadResponse();
  ASSERT_TRUE(same);
  EXPECT_EQ(same->status, 304);
  EXPECT_TRUE(same->body.empty());
  EXPECT_EQ(same->Header("etag"), etag);

  ASSERT_TRUE(c.Send("GET /console/swf.js HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto script = c.ReadResponse();
  ASSERT_TRUE(script);
  EXPECT_EQ(script->status, 200);
  EXPECT_EQ(script->Header("content-type"), "text/javascript; charset=utf-8");
  EXPECT_NE(script->body.find("AWS4-HMAC-SHA256"), std::string::npos);
  EXPECT_NE(script->Header("etag"), etag);

  for (const char* path : {"/console/nope.js", "/console/../console.js", "/consolex", "/console/assets/swf.js"}) {
    ASSERT_TRUE(c.Send(std::string("GET ") + path + " HTTP/1.1\r\nHost: x\r\n\r\n"));
    auto missing = c.ReadResponse();
    ASSERT_TRUE(missing) << path;
    EXPECT_EQ(missing->status, 404) << path;
  }
  // Assets are read-only.
  ASSERT_TRUE(c.Send("POST /console HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"));
  auto post = c.ReadResponse();
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 404);
}

TEST_F(ServerTest, ExpectContinueIsHonoured) {
  Start();
  RawClient c(port());
  const std::string body = R"({"registrationStatus":"REGISTERED"})";
  ASSERT_TRUE(
      c.Send("POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: "
             "SimpleWorkflowService.ListDomains\r\nExpect: 100-continue\r\n"
             "Content-Length: " +
             std::to_string(body.size()) + "\r\n\r\n"));
  auto cont = c.ReadResponse();
  ASSERT_TRUE(cont);
  EXPECT_EQ(cont->status, 100);
  ASSERT_TRUE(c.Send(body));
  auto r = c.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST_F(ServerTest, SlowAndIdleClientsAreClosed) {
  ServerOptions options;
  options.read_timeout = 300ms;
  options.idle_timeout = 500ms;
  Start(options);
  RawClient slow(port());
  ASSERT_TRUE(slow.Send("POST / HTTP/1.1\r\nHost: x\r\n"));  // never finishes
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(slow.WaitClosed());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);

  RawClient slow_body(port());
  ASSERT_TRUE(slow_body.Send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n{"));
  EXPECT_TRUE(slow_body.WaitClosed());

  RawClient idle(port());
  start = std::chrono::steady_clock::now();
  EXPECT_TRUE(idle.WaitClosed());
  EXPECT_GE(std::chrono::steady_clock::now() - start, 400ms);

  RawClient after(port());
  ASSERT_TRUE(after.Send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(after.ReadResponse());
}

TEST_F(ServerTest, LongPollReturnsTheMomentATaskArrives) {
  Start();
  RegisterBasics();
  RawClient poller(port());
  ASSERT_TRUE(poller.Send(RawClient::SwfRequest("PollForDecisionTask", DecisionPoll("p1"))));
  ASSERT_TRUE(WaitFor([&] { return engine_->GetStats().poll_waiters == 1; }));
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(StartWorkflow("w1").ok());
  auto r = poller.ReadResponse();
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  Json task = BodyOf(*r);
  EXPECT_TRUE(swf::HasTask(task)) << r->body;
  EXPECT_EQ(task["workflowExecution"]["workflowId"], "w1");
  EXPECT_LT(elapsed, 1s);
  // The connection is reusable afterwards.
  auto again = poller.Call("ListDomains", R"({"registrationStatus":"REGISTERED"})");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 200);
}

TEST_F(ServerTest, EmptyPollOmitsTheTaskToken) {
  Start({}, 200ms);
  RegisterBasics();
  RawClient poller(port());
  auto r = poller.Call("PollForDecisionTask", DecisionPoll("p"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_FALSE(BodyOf(*r).contains("taskToken")) << r->body;
  auto a = poller.Call("PollForActivityTask", R"({"domain":"d","taskList":{"name":"acts"}})");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->status, 200);
  EXPECT_FALSE(BodyOf(*a).contains("taskToken")) << a->body;
}

TEST_F(ServerTest, ClientLeavingMidPollLeavesTheTaskForTheNextPoller) {
  Start();
  RegisterBasics();
  {
    RawClient leaver(port());
    ASSERT_TRUE(leaver.Send(RawClient::SwfRequest("PollForDecisionTask", DecisionPoll("gone"))));
    ASSERT_TRUE(WaitFor([&] { return engine_->GetStats().poll_waiters == 1; }));
  }  // closes the socket
  // The server notices and withdraws the poll from the engine.
  ASSERT_TRUE(WaitFor([&] { return engine_->GetStats().poll_waiters == 0; }));
  ASSERT_TRUE(StartWorkflow("w1").ok());
  EXPECT_EQ(engine_->GetStats().queued_decision_tasks, 1u);

  RawClient next(port());
  auto r = next.Call("PollForDecisionTask", DecisionPoll("next"));
  ASSERT_TRUE(r);
  Json task = BodyOf(*r);
  ASSERT_TRUE(swf::HasTask(task)) << r->body;
  int started = 0;
  for (const Json& e : task["events"]) {
    if (e["eventType"] == "DecisionTaskStarted") {
      ++started;
      EXPECT_EQ(e["decisionTaskStartedEventAttributes"]["identity"], "next");
    }
  }
  EXPECT_EQ(started, 1);
}

TEST_F(ServerTest, ManyHeldPollsOnFewThreads) {
  ServerOptions options;
  options.threads = 1;
  Start(options);
  RegisterBasics();
  std::vector<std::unique_ptr<RawClient>> pollers;
  for (int i = 0; i < 50; ++i) {
    pollers.push_back(std::make_unique<RawClient>(port()));
    ASSERT_TRUE(pollers.back()->Send(
        RawClient::SwfRequest("PollForDecisionTask", DecisionPoll("p" + std::to_string(i)))));
  }
  ASSERT_TRUE(WaitFor([&] { return engine_->GetStats().poll_waiters == 50; }));
  // The one I/O thread still serves other requests at once.
  RawClient other(port());
  auto r = other.Call("ListDomains", R"({"registrationStatus":"REGISTERED"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(server_->MetricsText().find("garcon_http_polls_held 50"), std::string::npos);
}

TEST_F(ServerTest, AtTheConnectionCapIdleConnectionsMakeRoomThenNewOnesGet503) {
  ServerOptions options;
  options.max_connections = 4;
  Start(options);
  RegisterBasics();
  // Four idle keep-alive connections fill the cap; a fifth takes the place of
  // one of them.
  std::vector<std::unique_ptr<RawClient>> idle;
  for (int i = 0; i < 4; ++i) {
    idle.push_back(std::make_unique<RawClient>(port()));
    ASSERT_TRUE(idle.back()->Call("ListDomains", R"({"registrationStatus":"REGISTERED"})"));
  }
  RawClient fifth(port());
  auto r = fifth.Call("ListDomains", R"({"registrationStatus":"REGISTERED"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  int closed = 0;
  for (auto& c : idle) {
    c->SetReceiveTimeout(0.5);
    closed += c->WaitClosed() ? 1 : 0;
  }
  EXPECT_EQ(closed, 1);
  idle.clear();  // the others leave too
  ASSERT_TRUE(WaitFor([&] {
    return server_->MetricsText().find("garcon_http_connections_open 1\n") != std::string::npos;
  }));

  // Connections busy with held polls are never reclaimed: past the cap, a
  // new connection is answered 503 at once and closed.
  std::vector<std::unique_ptr<RawClient>> pollers;
  for (int i = 0; i < 3; ++i) {
    pollers.push_back(std::make_unique<RawClient>(port()));
    ASSERT_TRUE(pollers.back()->Send(
        RawClient::SwfRequest("PollForDecisionTask", DecisionPoll("p" + std::to_string(i)))));
  }
  ASSERT_TRUE(fifth.Send(RawClient::SwfRequest("PollForDecisionTask", DecisionPoll("p3"))));
  ASSERT_TRUE(WaitFor([&] { return engine_->GetStats().poll_waiters == 4; }));
  RawClient refused(port());
  auto busy = refused.ReadResponse();
  ASSERT_TRUE(busy);
  EXPECT_EQ(busy->status, 503);
  EXPECT_EQ(TypeOf(*busy), "com.amazon.coral.service#ServiceUnavailable");
  EXPECT_TRUE(refused.WaitClosed());
  EXPECT_NE(server_->MetricsText().find("garcon_http_connections_refused_total 1\n"),
            std::string::npos);
  // The held polls are untouched.
  EXPECT_EQ(engine_->GetStats().poll_waiters, 4u);
}

TEST_F(ServerTest, TransferCodingsOtherThanChunkedAreRefused) {
  Start();
  const std::string body = R"({"registrationStatus":"REGISTERED"})";
  for (const auto& [coding, status] :
       std::vector<std::pair<std::string, int>>{{"gzip", 400}, {"gzip, chunked", 501}}) {
    RawClient c(port());
    ASSERT_TRUE(c.Send("POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: "
                       "SimpleWorkflowService.ListDomains\r\nTransfer-Encoding: " +
                       coding + "\r\n\r\n" + body));
    auto r = c.ReadResponse();
    ASSERT_TRUE(r) << coding;
    EXPECT_EQ(r->status, status) << coding;
    EXPECT_EQ(TypeOf(*r), "com.amazon.coral.service#SerializationException") << coding;
    EXPECT_TRUE(c.WaitClosed()) << coding;
  }
}

TEST_F(ServerTest, StopAnswersHeldPollsWithTheEmptyShape) {
  Start();
  RegisterBasics();
  RawClient poller(port());
  ASSERT_TRUE(poller.Send(RawClient::SwfRequest("PollForDecisionTask", DecisionPoll("p"))));
  ASSERT_TRUE(WaitFor([&] { return engine_->GetStats().poll_waiters == 1; }));
  RawClient idle(port());
  ASSERT_TRUE(idle.Send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(idle.ReadResponse());
  auto stopped = std::async(std::launch::async, [&] { server_->Stop(); });
  auto r = poller.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_FALSE(swf::HasTask(BodyOf(*r)));
  EXPECT_EQ(r->Header("connection"), "close");
  EXPECT_TRUE(idle.WaitClosed());
  ASSERT_EQ(stopped.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(engine_->GetStats().poll_waiters, 0u);
  RawClient refused(port());
  EXPECT_FALSE(refused.connected());
}

TEST_F(ServerTest, StartFailsOnAPortInUse) {
  Start();
  ServerOptions options;
  options.port = port();
  HttpServer second(*engine_, options);
  Status status = second.Start();
  EXPECT_EQ(status.fault(), Fault::kServiceUnavailable);
  ServerOptions bad;
  bad.bind_address = "not-an-address";
  HttpServer third(*engine_, bad);
  EXPECT_EQ(third.Start().fault(), Fault::kValidation);
}

TEST_F(ServerTest, AnAddressOtherThanLoopbackNeedsCredentialsOrInsecure) {
  Start();
  ServerOptions open;
  open.bind_address = "0.0.0.0";
  open.port = 0;
  HttpServer refused(*engine_, open);
  const Status status = refused.Start();
  EXPECT_EQ(status.fault(), Fault::kValidation);
  EXPECT_NE(status.message().find("without credentials"), std::string::npos) << status.message();
  open.insecure = true;
  HttpServer on_purpose(*engine_, open);
  EXPECT_TRUE(on_purpose.Start().ok());
  on_purpose.Stop();
  ServerOptions signed_only;
  signed_only.bind_address = "0.0.0.0";
  signed_only.port = 0;
  signed_only.credentials = {{"AKID", "secret"}};
  HttpServer with_credentials(*engine_, signed_only);
  EXPECT_TRUE(with_credentials.Start().ok());
  with_credentials.Stop();
}

// --- signatures ---------------------------------------------------------------

std::string SignedRequest(const std::string& operation, const std::string& body,
                          const std::string& key, const std::string& secret,
                          TimePoint when = std::chrono::system_clock::now()) {
  sigv4::Request r;
  r.headers = {{"Host", "127.0.0.1"},
               {"X-Amz-Target", "SimpleWorkflowService." + operation},
               {"Content-Type", "application/x-amz-json-1.0"}};
  r.body = body;
  sigv4::SignOptions options;
  options.now = when;
  sigv4::Sign(r, sigv4::Credentials{key, secret, ""}, options);
  std::string text = "POST / HTTP/1.1\r\n";
  for (const auto& [n, v] : r.headers) text += n + ": " + v + "\r\n";
  text += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  return text;
}

TEST_F(ServerTest, SignaturesAreVerifiedWhenCredentialsAreConfigured) {
  ServerOptions options;
  options.credentials = {{"AKID", "SECRET"}};
  Start(options);
  const std::string body = R"({"registrationStatus":"REGISTERED"})";
  RawClient c(port());

  struct Case {
    std::string request;
    int status;
    std::string type;
  };
  const auto now = std::chrono::system_clock::now();
  std::vector<Case> cases = {
      {SignedRequest("ListDomains", body, "AKID", "SECRET"), 200, ""},
      {RawClient::SwfRequest("ListDomains", body), 400,
       "com.amazon.coral.service#MissingAuthenticationTokenException"},
      {SignedRequest("ListDomains", body, "AKID", "WRONG"), 400,
       "com.amazon.coral.service#InvalidSignatureException"},
      {SignedRequest("ListDomains", body, "NOBODY", "SECRET"), 400,
       "com.amazon.coral.service#UnrecognizedClientException"},
      {SignedRequest("ListDomains", body, "AKID", "SECRET", now - 20min), 400,
       "com.amazon.coral.service#RequestExpired"},
      {RawClient::SwfRequest("ListDomains", body,
                             "Authorization: AWS4-HMAC-SHA256 Credential=AKID/x\r\n"),
       400, "com.amazon.coral.service#IncompleteSignatureException"},
      {SignedRequest("ListDomains", body, "AKID", "SECRET"), 200, ""},
  };
  for (const Case& test : cases) {
    SCOPED_TRACE(test.type);
    ASSERT_TRUE(c.Send(test.request));
    auto r = c.ReadResponse();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, test.status) << r->body;
    if (!test.type.empty()) {
      EXPECT_EQ(TypeOf(*r), test.type) << r->body;
    }
  }
  // A body changed after signing.
  std::string tampered = SignedRequest("ListDomains", body, "AKID", "SECRET");
  tampered.replace(tampered.find("REGISTERED"), 10, "DEPRECATED");
  ASSERT_TRUE(c.Send(tampered));
  auto r = c.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(TypeOf(*r), "com.amazon.coral.service#InvalidSignatureException");
  // Health stays open for probes.
  ASSERT_TRUE(c.Send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto health = c.ReadResponse();
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
}

// --- wire helpers -------------------------------------------------------------

TEST(WireTest, FaultTypes) {
  EXPECT_EQ(FaultType(Fault::kUnknownResource),
            "com.amazonaws.swf.base.model#UnknownResourceFault");
  EXPECT_EQ(FaultType(Fault::kTooManyTags), "com.amazonaws.swf.base.model#TooManyTagsFault");
  EXPECT_EQ(FaultType(Fault::kValidation), "com.amazon.coral.validate#ValidationException");
  EXPECT_EQ(FaultType(Fault::kSerialization), "com.amazon.coral.service#SerializationException");
  EXPECT_EQ(FaultType(Fault::kInternalFailure), "com.amazon.coral.service#InternalFailure");
  // Every type reads back as its fault.
  for (Fault f : {Fault::kUnknownResource, Fault::kValidation, Fault::kThrottling,
                  Fault::kInvalidSignature, Fault::kRequestExpired}) {
    EXPECT_EQ(FaultFromName(FaultType(f)), f);
  }
  EXPECT_EQ(Json::parse(FaultBody(UnknownResource("Unknown domain: d"))),
            (Json{{"__type", "com.amazonaws.swf.base.model#UnknownResourceFault"},
                  {"message", "Unknown domain: d"}}));
}

TEST(WireTest, RequestIdsAreUuids) {
  std::string a = NewRequestId(), b = NewRequestId();
  EXPECT_EQ(a.size(), 36u);
  EXPECT_EQ(a[14], '4');
  EXPECT_NE(a, b);
}

TEST(WireTest, Targets) {
  EXPECT_EQ(*OperationFromTarget("SimpleWorkflowService.ListDomains"), "ListDomains");
  EXPECT_EQ(OperationFromTarget("").fault(), Fault::kUnknownOperation);
  EXPECT_EQ(OperationFromTarget("DynamoDB_20120810.ListTables").fault(), Fault::kUnknownOperation);
  EXPECT_EQ(OperationFromTarget("SimpleWorkflowService.Nope").fault(), Fault::kUnknownOperation);
}

TEST(WireTest, Bodies) {
  EXPECT_EQ(*ParseRequestBody(""), Json::object());
  EXPECT_EQ(ParseRequestBody("{").fault(), Fault::kSerialization);
  EXPECT_EQ(ParseRequestBody("\"x\"").fault(), Fault::kSerialization);
  EXPECT_EQ(ParseRequestBody("{\"a\":\"\xff\"}").fault(), Fault::kSerialization);
  // What the JSON library would accept or throw on, refused cleanly.
  EXPECT_EQ(ParseRequestBody("\xEF\xBB\xBF{}").fault(), Fault::kSerialization);
  EXPECT_EQ(ParseRequestBody(std::string("{}\0{\"x\":1}", 10)).fault(), Fault::kSerialization);
  EXPECT_EQ(ParseRequestBody(R"({"a":1e400})").fault(), Fault::kSerialization);
  EXPECT_EQ(ParseRequestBody("{\"a\":" + std::string(400, '9') + "}").fault(),
            Fault::kSerialization);
  const std::string deep = std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']');
  EXPECT_TRUE(ParseRequestBody("{\"a\":" + deep.substr(1, deep.size() - 2) + "}").ok());
  EXPECT_EQ(ParseRequestBody("{\"a\":" + deep + "}").fault(), Fault::kSerialization);
  EXPECT_EQ(ParseRequestBody("{\"a\":" + std::string(100000, '[')).fault(),
            Fault::kSerialization);
  // Brackets inside strings are not nesting.
  EXPECT_TRUE(ParseRequestBody("{\"a\":\"" + std::string(1000, '[') + "\\\"\"}").ok());
  // The reason, without the library's own prefix.
  const Status truncated = ParseRequestBody("{\"a\":").status();
  EXPECT_NE(truncated.message().find("at byte"), std::string::npos) << truncated.message();
  EXPECT_EQ(truncated.message().find("json.exception"), std::string::npos) << truncated.message();
  EXPECT_EQ(ResponseBody(Json()), "{}");
  EXPECT_EQ(ResponseBody(Json{{"a", std::string("\xff")}}), "{\"a\":\"\xef\xbf\xbd\"}");
}

// ResponseBody writes what Json::dump writes, byte for byte.
TEST(WireTest, ResponseBodyIsJsonDump) {
  const Json values = Json::array(
      {Json::object(), Json::array(), nullptr, true, false, 0, -1, 42,
       std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::uint64_t>::max(), 0.0,
       -0.0, 0.1, 1767225600.123456, 1e300, -2.5e-300, 3.0, std::nan(""), "plain", "",
       "quote \" backslash \\ slash /", [] {
         static constexpr char kText[] = "nul \0 tab \t newline \n del \x7f";
         return std::string(kText, sizeof kText - 1);  // the NUL inside included
       }(),
       "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "bad \xc3 utf-8 \xff\xfe",
       Json{{"b", 1}, {"a", Json::array({1, "x", Json{{"\n", nullptr}}})}}});
  for (const Json& value : values) {
    const Json response{{"value", value}, {"list", Json::array({value, value})}};
    EXPECT_EQ(ResponseBody(response), response.dump(-1, ' ', false, Json::error_handler_t::replace))
        << response.dump(-1, ' ', true, Json::error_handler_t::replace);
  }
}

TEST(WireTest, CredentialsFile) {
  const std::string path = ::testing::TempDir() + "/garcon_credentials";
  {
    std::ofstream out(path);
    out << "# comment\n\nAKID1 secret1\n  AKID2\tsecret2  \n";
  }
  // Readable by others: refused, as ssh refuses such keys.
  ::chmod(path.c_str(), 0644);
  const Status open_to_all = ReadCredentialsFile(path).status();
  EXPECT_EQ(open_to_all.fault(), Fault::kValidation);
  EXPECT_NE(open_to_all.message().find("mode 0644"), std::string::npos) << open_to_all.message();
  ::chmod(path.c_str(), 0600);
  auto creds = ReadCredentialsFile(path);
  ASSERT_TRUE(creds.ok()) << creds.status().ToString();
  EXPECT_EQ(creds->size(), 2u);
  EXPECT_EQ(creds->at("AKID2"), "secret2");
  {
    std::ofstream out(path);
    out << "AKID1 secret1 extra\n";
  }
  EXPECT_EQ(ReadCredentialsFile(path).fault(), Fault::kValidation);
  {
    std::ofstream out(path);
    out << "AKID1 a\nAKID1 b\n";
  }
  EXPECT_EQ(ReadCredentialsFile(path).fault(), Fault::kValidation);
  EXPECT_EQ(ReadCredentialsFile(path + ".missing").fault(), Fault::kUnknownResource);
}

}  // namespace
}  // namespace garcon::server
