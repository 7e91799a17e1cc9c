// HttpService against a scripted HTTP server on loopback: what goes on the
// wire (headers, SigV4 signature, body), faults, retries and backoff,
// timeouts, keep-alive, concurrency and shutdown.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "client/fake_server.h"
#include "garcon/client.h"
#include "protocol/sigv4.h"

namespace garcon::client {
namespace {

using std::chrono::milliseconds;
using testing::CapturedRequest;
using testing::FakeServer;
using testing::ScriptedResponse;

// 2026-01-01T00:00:00Z.
constexpr double kEpoch = 1767225600.0;

class HttpServiceTest : public ::testing::Test {
 protected:
  ClientOptions Options() {
    ClientOptions o;
    o.endpoint = server_.url();
    o.region = "us-west-2";
    o.credentials = {"AKIDTEST", "secret/key+chars=", ""};
    o.proxy = "";  // loopback: never through a proxy from the environment
    o.clock = clock_;
    o.sleep = [this](milliseconds d) {
      std::lock_guard lock(mu_);
      sleeps_.push_back(d);
    };
    return o;
  }

  std::unique_ptr<HttpService> Make(const ClientOptions& o) {
    auto s = HttpService::Create(o);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(*s) : nullptr;
  }
  std::unique_ptr<HttpService> Make() { return Make(Options()); }

  std::vector<milliseconds> sleeps() {
    std::lock_guard lock(mu_);
    return sleeps_;
  }

  FakeServer server_;
  std::shared_ptr<FakeClock> clock_ = std::make_shared<FakeClock>(FromEpochSeconds(kEpoch));
  std::mutex mu_;
  std::vector<milliseconds> sleeps_;
};

sigv4::Request AsSigned(const CapturedRequest& r) {
  sigv4::Request out;
  out.method = r.method;
  out.path = r.target;
  out.headers = r.headers;
  out.body = r.body;
  return out;
}

TEST_F(HttpServiceTest, RequestOnTheWire) {
  server_.Script({ScriptedResponse{200, R"({"domainInfos":[]})"}});
  auto swf = Make();
  Json request = {{"registrationStatus", "REGISTERED"}, {"note", "caf\u00e9"}};
  Result<Json> r = swf->Call("ListDomains", request);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, Json::parse(R"({"domainInfos":[]})"));

  auto requests = server_.requests();
  ASSERT_EQ(requests.size(), 1u);
  const CapturedRequest& got = requests[0];
  EXPECT_EQ(got.method, "POST");
  EXPECT_EQ(got.target, "/");
  EXPECT_EQ(Json::parse(got.body), request);
  EXPECT_EQ(got.Header("X-Amz-Target"), "SimpleWorkflowService.ListDomains");
  EXPECT_EQ(got.Header("Content-Type"), "application/x-amz-json-1.0");
  EXPECT_EQ(got.Header("Host"), "127.0.0.1:" + std::to_string(server_.port()));
  EXPECT_EQ(got.Header("X-Amz-Date"), "20260101T000000Z");
  EXPECT_EQ(got.Header("Content-Length"), std::to_string(got.body.size()));
  EXPECT_EQ(got.Header("Expect"), "");
  EXPECT_EQ(got.Header("X-Amz-Security-Token"), "");
  EXPECT_EQ(got.Header("User-Agent"), "garcon-cpp/" + std::string(garcon::Version()));

  // The Authorization header: botocore's form and header list...
  const std::string auth = got.Header("Authorization");
  EXPECT_EQ(auth.rfind("AWS4-HMAC-SHA256 Credential=AKIDTEST/20260101/us-west-2/swf/aws4_request, "
                       "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=",
                       0),
            0u)
      << auth;
  Result<sigv4::Authorization> parsed = sigv4::ParseAuthorization(auth);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->signature.size(), 64u);

  // ...and a signature over exactly what arrived (body hash included),
  // checked by the server-side verifier.
  sigv4::VerifyOptions verify;
  verify.now = clock_->Now();
  verify.region = "us-west-2";
  auto secrets = [](std::string_view key) -> std::optional<std::string> {
    if (key == "AKIDTEST") return "secret/key+chars=";
    return std::nullopt;
  };
  Result<std::string> who = sigv4::Verify(AsSigned(got), secrets, verify);
  EXPECT_TRUE(who.ok()) << who.status().ToString();
  sigv4::Request tampered = AsSigned(got);
  tampered.body += " ";
  EXPECT_EQ(sigv4::Verify(tampered, secrets, verify).fault(), Fault::kInvalidSignature);

  // The same signer, fed the request the client means to send, gives the
  // same header byte for byte.
  sigv4::Request expected;
  expected.headers = {{"Host", got.Header("Host")},
                      {"X-Amz-Target", "SimpleWorkflowService.ListDomains"},
                      {"Content-Type", "application/x-amz-json-1.0"}};
  expected.body = got.body;
  sigv4::SignOptions sign;
  sign.region = "us-west-2";
  sign.now = clock_->Now();
  sigv4::Sign(expected, {"AKIDTEST", "secret/key+chars=", ""}, sign);
  EXPECT_EQ(expected.Header("Authorization").value_or(""), auth);
}

TEST_F(HttpServiceTest, SessionTokenIsSentAndSigned) {
  ClientOptions o = Options();
  o.credentials.session_token = "FQoGZXIvYXdzE//token==";
  auto swf = Make(o);
  ASSERT_TRUE(swf->Call("ListDomains", {{"registrationStatus", "REGISTERED"}}).ok());
  const CapturedRequest got = server_.requests().at(0);
  EXPECT_EQ(got.Header("X-Amz-Security-Token"), "FQoGZXIvYXdzE//token==");
  EXPECT_NE(got.Header("Authorization")
                .find("SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;"
                      "x-amz-target,"),
            std::string::npos)
      << got.Header("Authorization");
  sigv4::VerifyOptions verify;
  verify.now = clock_->Now();
  auto secrets = [](std::string_view) -> std::optional<std::string> { return "secret/key+chars="; };
  EXPECT_TRUE(sigv4::Verify(AsSigned(got), secrets, verify).ok());
}

TEST_F(HttpServiceTest, AnonymousRequestsAreNotSigned) {
  ClientOptions o = Options();
  o.anonymous = true;
  auto swf = Make(o);
  ASSERT_TRUE(swf->Call("ListDomains", {{"registrationStatus", "REGISTERED"}}).ok());
  const CapturedRequest got = server_.requests().at(0);
  EXPECT_EQ(got.Header("Authorization"), "");
  EXPECT_EQ(got.Header("X-Amz-Target"), "SimpleWorkflowService.ListDomains");
}

TEST_F(HttpServiceTest, EndpointPathIsRequestedAndSigned) {
  ClientOptions o = Options();
  o.endpoint = server_.url() + "/swf/";
  auto swf = Make(o);
  ASSERT_TRUE(swf->Call("ListDomains", {{"registrationStatus", "REGISTERED"}}).ok());
  const CapturedRequest got = server_.requests().at(0);
  EXPECT_EQ(got.target, "/swf/");
  sigv4::VerifyOptions verify;
  verify.now = clock_->Now();
  auto secrets = [](std::string_view) -> std::optional<std::string> { return "secret/key+chars="; };
  EXPECT_TRUE(sigv4::Verify(AsSigned(got), secrets, verify).ok());
}

TEST_F(HttpServiceTest, EmptyPollPassesThrough) {
  server_.Script({ScriptedResponse{200, R"({"previousStartedEventId":0,"startedEventId":0})"}});
  auto swf = Make();
  Result<Json> r =
      swf->Call("PollForDecisionTask", {{"domain", "d"}, {"taskList", {{"name", "t"}}}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(swf::HasTask(*r));
  EXPECT_EQ(*r, Json::parse(R"({"previousStartedEventId":0,"startedEventId":0})"));
}

TEST_F(HttpServiceTest, EmptyBodyIsAnEmptyObject) {
  server_.Script({ScriptedResponse{200, ""}});
  auto swf = Make();
  Result<Json> r = swf->Call("RegisterDomain", {{"name", "d"}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, Json::object());
}

TEST_F(HttpServiceTest, FaultIsNotRetried) {
  server_.Script({testing::Fault(400, "com.amazonaws.swf.base.model#UnknownResourceFault",
                                 "Unknown domain: nope")});
  auto swf = Make();
  Result<Json> r = swf->Call("DescribeDomain", {{"name", "nope"}});
  EXPECT_EQ(r.status(), Status(Fault::kUnknownResource, "Unknown domain: nope"));
  EXPECT_EQ(server_.requests().size(), 1u);
  EXPECT_TRUE(sleeps().empty());
}

TEST_F(HttpServiceTest, ThrottlingIsRetriedWithBackoff) {
  auto throttled = testing::Fault(400, "ThrottlingException", "Rate exceeded");
  server_.Script({throttled, throttled, throttled, ScriptedResponse{200, R"({"ok":true})"}});
  auto swf = Make();
  Result<Json> r = swf->Call("StartWorkflowExecution", {{"domain", "d"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)["ok"], true);
  EXPECT_EQ(server_.requests().size(), 4u);
  auto waits = sleeps();
  ASSERT_EQ(waits.size(), 3u);
  for (std::size_t i = 0; i < waits.size(); ++i) {
    EXPECT_GE(waits[i].count(), 0);
    EXPECT_LE(waits[i], milliseconds(100 << i)) << "retry " << i;  // full jitter ceiling
  }
  // Every attempt is signed afresh.
  for (const CapturedRequest& got : server_.requests()) {
    EXPECT_NE(got.Header("Authorization"), "");
  }
}

TEST_F(HttpServiceTest, UnavailableIsRetriedUntilTheRetriesRunOut) {
  server_.Script({ScriptedResponse{503, ""}});
  ClientOptions o = Options();
  o.max_retries = 3;
  auto swf = Make(o);
  Result<Json> r = swf->Call("ListDomains", {{"registrationStatus", "REGISTERED"}});
  EXPECT_EQ(r.fault(), Fault::kServiceUnavailable);
  EXPECT_EQ(server_.requests().size(), 4u);
  EXPECT_EQ(sleeps().size(), 3u);
}

TEST_F(HttpServiceTest, BackoffIsCapped) {
  server_.Script({ScriptedResponse{503, ""}});
  ClientOptions o = Options();
  o.max_retries = 12;
  o.backoff_base = milliseconds(10);
  o.backoff_cap = milliseconds(50);
  auto swf = Make(o);
  EXPECT_EQ(swf->Call("ListDomains", {{"registrationStatus", "REGISTERED"}}).fault(),
            Fault::kServiceUnavailable);
  auto waits = sleeps();
  ASSERT_EQ(waits.size(), 12u);
  for (milliseconds w : waits) EXPECT_LE(w, milliseconds(50));
  EXPECT_EQ(server_.requests().size(), 13u);
}

TEST_F(HttpServiceTest, InternalFailureIsRetried) {
  server_.Script({testing::Fault(500, "com.amazon.coral.service#InternalFailure", "oops"),
                  ScriptedResponse{}});
  auto swf = Make();
  EXPECT_TRUE(swf->Call("RespondActivityTaskCompleted", {{"taskToken", "t"}}).ok());
  EXPECT_EQ(server_.requests().size(), 2u);
}

TEST_F(HttpServiceTest, SignalIsNotRepeatedAfterAnAmbiguousFailure) {
  // A 500 may have come after the signal was recorded: a second one would be
  // recorded twice.
  server_.Script({testing::Fault(500, "InternalFailure", "oops"), ScriptedResponse{}});
  auto swf = Make();
  EXPECT_EQ(swf->Call("SignalWorkflowExecution", {{"domain", "d"}}).fault(),
            Fault::kInternalFailure);
  EXPECT_EQ(server_.requests().size(), 1u);
  // Throttling and 503 come before any work: retried.
  server_.Script({ScriptedResponse{503, ""}, ScriptedResponse{}});
  EXPECT_TRUE(swf->Call("SignalWorkflowExecution", {{"domain", "d"}}).ok());
  EXPECT_EQ(server_.requests().size(), 3u);
}

TEST_F(HttpServiceTest, DuplicateFaultAfterAnAmbiguousRetrySaysSo) {
  ScriptedResponse dropped;
  dropped.drop = true;  // the connection closes with no answer
  server_.Script({dropped, testing::Fault(400, "com.amazonaws.swf.base.model#UnknownResourceFault",
                                          "Unknown activity task")});
  auto swf = Make();
  Result<Json> r = swf->Call("RespondActivityTaskCompleted", {{"taskToken", "t"}});
  EXPECT_EQ(r.fault(), Fault::kUnknownResource);
  EXPECT_NE(r.status().message().find("Unknown activity task (after a retry: an earlier attempt"),
            std::string::npos)
      << r.status().message();
  EXPECT_EQ(server_.requests().size(), 2u);
}

TEST_F(HttpServiceTest, DroppedConnectionIsRetried) {
  ScriptedResponse dropped;
  dropped.drop = true;
  server_.Script({dropped, ScriptedResponse{200, R"({"n":1})"}});
  auto swf = Make();
  Result<Json> r = swf->Call("CountOpenWorkflowExecutions", {{"domain", "d"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(server_.requests().size(), 2u);
  EXPECT_EQ(server_.connections(), 2);
}

TEST_F(HttpServiceTest, ConnectionRefusedIsServiceUnavailable) {
  ClientOptions o = Options();
  o.endpoint = "http://127.0.0.1:" + std::to_string(testing::ClosedPort());
  o.max_retries = 2;
  auto swf = Make(o);
  Result<Json> r = swf->Call("ListDomains", {{"registrationStatus", "REGISTERED"}});
  ASSERT_EQ(r.fault(), Fault::kServiceUnavailable);
  EXPECT_NE(r.status().message().find(o.endpoint), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("onnect"), std::string::npos) << r.status().message();
  EXPECT_EQ(sleeps().size(), 2u);  // retried: nothing reached a server
}

TEST_F(HttpServiceTest, RequestTimeoutAndTheLongerPollTimeout) {
  ScriptedResponse slow;
  slow.delay = milliseconds(600);
  server_.Script({slow});
  ClientOptions o = Options();
  o.request_timeout = milliseconds(150);
  o.poll_timeout = milliseconds(5000);
  o.max_retries = 1;
  auto swf = Make(o);
  Result<Json> r = swf->Call("DescribeDomain", {{"name", "d"}});
  ASSERT_EQ(r.fault(), Fault::kServiceUnavailable);
  EXPECT_NE(r.status().message().find("imed out"), std::string::npos) << r.status().message();
  EXPECT_EQ(server_.requests().size(), 2u);  // a timed-out read is retried
  // A poll waits longer.
  Result<Json> poll =
      swf->Call("PollForActivityTask", {{"domain", "d"}, {"taskList", {{"name", "t"}}}});
  EXPECT_TRUE(poll.ok()) << poll.status().ToString();
}

TEST_F(HttpServiceTest, KeepAliveReusesOneConnection) {
  auto swf = Make();
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(swf->Call("ListDomains", {{"registrationStatus", "REGISTERED"}}).ok());
  }
  EXPECT_EQ(server_.requests().size(), 5u);
  EXPECT_EQ(server_.connections(), 1);
  // A server that closes makes the next call open a new one.
  ScriptedResponse closing;
  closing.close = true;
  server_.Script({closing, ScriptedResponse{}});
  ASSERT_TRUE(swf->Call("ListDomains", {{"registrationStatus", "REGISTERED"}}).ok());
  ASSERT_TRUE(swf->Call("ListDomains", {{"registrationStatus", "REGISTERED"}}).ok());
  EXPECT_EQ(server_.connections(), 2);
}

TEST_F(HttpServiceTest, ManyThreadsAtOnce) {
  ScriptedResponse slowish;
  slowish.delay = milliseconds(5);
  server_.Script({slowish});
  auto swf = Make();
  constexpr int kThreads = 8;
  constexpr int kCalls = 15;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kCalls; ++i) {
        if (swf->Call("DescribeDomain", {{"name", "d"}}).ok()) ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), kThreads * kCalls);
  EXPECT_EQ(server_.requests().size(), static_cast<std::size_t>(kThreads * kCalls));
  // Connections are pooled: at most one per concurrent caller.
  EXPECT_LE(server_.connections(), kThreads);
}

TEST_F(HttpServiceTest, ShutdownEndsALongPoll) {
  ScriptedResponse held;
  held.delay = milliseconds(30000);  // a long poll that would hold 30 s
  server_.Script({held});
  ClientOptions o = Options();
  o.sleep = nullptr;  // the default, interruptible sleep
  auto swf = Make(o);
  std::thread stopper([&] {
    std::this_thread::sleep_for(milliseconds(300));
    swf->Shutdown();
  });
  const auto start = std::chrono::steady_clock::now();
  Result<Json> r =
      swf->Call("PollForActivityTask", {{"domain", "d"}, {"taskList", {{"name", "t"}}}});
  const auto took = std::chrono::steady_clock::now() - start;
  stopper.join();
  EXPECT_EQ(r.fault(), Fault::kServiceUnavailable);
  EXPECT_NE(r.status().message().find("shut down"), std::string::npos) << r.status().message();
  EXPECT_LT(took, std::chrono::seconds(5));
  // Later calls fail at once.
  EXPECT_EQ(swf->Call("ListDomains", {{"registrationStatus", "REGISTERED"}}).fault(),
            Fault::kServiceUnavailable);
  EXPECT_EQ(server_.requests().size(), 1u);
}

TEST_F(HttpServiceTest, ShutdownInterruptsABackoff) {
  server_.Script({ScriptedResponse{503, ""}});
  ClientOptions o = Options();
  o.sleep = nullptr;
  o.backoff_base = milliseconds(60000);
  o.backoff_cap = milliseconds(60000);
  auto swf = Make(o);
  std::thread stopper([&] {
    std::this_thread::sleep_for(milliseconds(300));
    swf->Shutdown();
  });
  const auto start = std::chrono::steady_clock::now();
  Result<Json> r = swf->Call("ListDomains", {{"registrationStatus", "REGISTERED"}});
  stopper.join();
  EXPECT_EQ(r.fault(), Fault::kServiceUnavailable);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST_F(HttpServiceTest, ClientSideThrottleMakesCallersWait) {
  ClientOptions o = Options();
  o.throttle = true;
  o.rate_limits["DescribeDomain"] = {2, 10};  // 2 at once, then 10 per second
  auto swf = Make(o);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(swf->Call("DescribeDomain", {{"name", "d"}}).ok());
  // The injected sleep does not sleep: calls 3, 4, 5 were told to wait about
  // 100, 200, 300 ms (less the little real time that passed).
  auto waits = sleeps();
  ASSERT_EQ(waits.size(), 3u);
  EXPECT_GT(waits[0], milliseconds(50));
  EXPECT_LE(waits[0], milliseconds(100));
  EXPECT_GT(waits[2], milliseconds(250));
  EXPECT_LE(waits[2], milliseconds(300));
  // Off by default.
  auto unthrottled = Make();
  {
    std::lock_guard lock(mu_);
    sleeps_.clear();
  }
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(unthrottled->Call("DescribeDomain", {{"name", "d"}}).ok());
  EXPECT_TRUE(sleeps().empty());
}

TEST_F(HttpServiceTest, LocalRefusals) {
  auto swf = Make();
  EXPECT_EQ(swf->Call("NoSuchOperation", Json::object()).fault(), Fault::kUnknownOperation);
  EXPECT_EQ(swf->Call("ListDomains", Json::array()).fault(), Fault::kSerialization);
  EXPECT_EQ(swf->Call("RegisterDomain", {{"name", std::string("\xff\xfe")}}).fault(),
            Fault::kSerialization);
  EXPECT_TRUE(server_.requests().empty());
}

TEST_F(HttpServiceTest, CreateValidates) {
  ClientOptions o = Options();
  o.endpoint = "swf.example.com";
  EXPECT_EQ(HttpService::Create(o).fault(), Fault::kValidation);
  o = Options();
  o.region = "";
  EXPECT_EQ(HttpService::Create(o).fault(), Fault::kValidation);
  o = Options();
  o.request_timeout = milliseconds(0);
  EXPECT_EQ(HttpService::Create(o).fault(), Fault::kValidation);
  o = Options();
  o.max_retries = -1;
  EXPECT_EQ(HttpService::Create(o).fault(), Fault::kValidation);
}

}  // namespace
}  // namespace garcon::client
