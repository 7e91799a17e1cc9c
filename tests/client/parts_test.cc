// The client's pure parts: endpoint URLs, the INI dialect, reading
// responses and faults, the retry policy and backoff, token buckets.
#include <gtest/gtest.h>

#include "client/endpoint.h"
#include "client/ini.h"
#include "client/response.h"
#include "client/retry.h"
#include "client/throttle.h"

namespace garcon::client {
namespace {

using std::chrono::milliseconds;

// --- endpoints -------------------------------------------------------------------

TEST(EndpointTest, HostHeaderAsBotocoreRendersIt) {
  struct Case {
    const char* url;
    const char* host_header;
    const char* request_url;
    int port;
  };
  for (const Case& c : {
           Case{"https://swf.us-east-1.amazonaws.com", "swf.us-east-1.amazonaws.com",
                "https://swf.us-east-1.amazonaws.com/", 443},
           Case{"https://SWF.eu-west-1.amazonaws.com:443/", "swf.eu-west-1.amazonaws.com",
                "https://swf.eu-west-1.amazonaws.com/", 443},
           Case{"http://127.0.0.1:7800", "127.0.0.1:7800", "http://127.0.0.1:7800/", 7800},
           Case{"http://localhost:80", "localhost", "http://localhost/", 80},
           Case{"https://host:8443/prefix/", "host:8443", "https://host:8443/prefix/", 8443},
           Case{"http://[::1]:9000", "[::1]:9000", "http://[::1]:9000/", 9000},
           Case{"HTTP://[::1]", "[::1]", "http://[::1]/", 80},
       }) {
    Result<Endpoint> e = ParseEndpoint(c.url);
    ASSERT_TRUE(e.ok()) << c.url << ": " << e.status().ToString();
    EXPECT_EQ(e->HostHeader(), c.host_header) << c.url;
    EXPECT_EQ(e->Url(), c.request_url) << c.url;
    EXPECT_EQ(e->port, c.port) << c.url;
  }
  EXPECT_EQ(ParseEndpoint("http://h:1/a/b")->path, "/a/b");
}

TEST(EndpointTest, Refused) {
  for (const char* url :
       {"", "swf.us-east-1.amazonaws.com", "ftp://host", "http://", "http://:80", "http://host:0",
        "http://host:65536", "http://host:x", "http://host:", "http://user:pw@host",
        "http://host/?a=b", "http://host/#f", "http://[::1", "http://[::1]x", "http://ho st"}) {
    EXPECT_EQ(ParseEndpoint(url).fault(), Fault::kValidation) << url;
  }
}

// --- INI ---------------------------------------------------------------------------

TEST(IniTest, ConfigparserDialect) {
  IniFile ini = ParseIni(
      "top = ignored before any section\n"
      "[default]\n"
      "region=us-west-2\n"
      "Output :  json  \n"
      "# comment\n"
      "; comment\n"
      "key = value # not a comment\n"
      "s3 =\n"
      "  max_concurrent_requests = 10\n"
      "  addressing_style = path\n"
      "after = nested\n"
      "[profile x]\r\n"
      "a = 1\r\n"
      "garbage line\n"
      "[default]\n"
      "region = eu-west-1\n");
  ASSERT_EQ(ini.size(), 2u);
  EXPECT_EQ(ini["default"]["region"], "eu-west-1");  // a later value wins
  EXPECT_EQ(ini["default"]["output"], "json");
  EXPECT_EQ(ini["default"]["key"], "value # not a comment");
  EXPECT_EQ(ini["default"]["s3"], "\nmax_concurrent_requests = 10\naddressing_style = path");
  EXPECT_EQ(ini["default"]["after"], "nested");
  EXPECT_EQ(ini["profile x"]["a"], "1");
  EXPECT_FALSE(ReadIniFile("/nonexistent/garcon/file").has_value());
}

// --- responses -----------------------------------------------------------------------

TEST(ResponseTest, Success) {
  Result<Json> r = ParseResponse(200, R"({"a": 1})", "");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)["a"], 1);
  EXPECT_EQ(*ParseResponse(200, "", ""), Json::object());
  EXPECT_EQ(*ParseResponse(200, " \n", ""), Json::object());
  EXPECT_EQ(ParseResponse(200, "<html>", "").fault(), Fault::kInternalFailure);
}

TEST(ResponseTest, EmptyPollPassesThrough) {
  Result<Json> r = ParseResponse(200, R"({"previousStartedEventId":0,"startedEventId":0})", "");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(swf::HasTask(*r));
  EXPECT_EQ((*r)["startedEventId"], 0);
  EXPECT_FALSE(swf::HasTask(*ParseResponse(200, R"({"taskToken":"","startedEventId":0})", "")));
}

TEST(ResponseTest, NamedFaults) {
  Result<Json> r = ParseResponse(
      400,
      R"({"__type":"com.amazonaws.swf.base.model#UnknownResourceFault","message":"Unknown domain: d"})",
      "");
  EXPECT_EQ(r.status(), Status(Fault::kUnknownResource, "Unknown domain: d"));

  r = ParseResponse(
      400, R"({"__type":"com.amazon.coral.validate#ValidationException","Message":"bad"})", "");
  EXPECT_EQ(r.status(), Status(Fault::kValidation, "bad"));

  r = ParseResponse(400, R"({"__type":"ThrottlingException","message":"Rate exceeded"})", "");
  EXPECT_EQ(r.fault(), Fault::kThrottling);

  r = ParseResponse(500, R"({"__type":"com.amazon.coral.service#InternalFailure"})", "");
  EXPECT_EQ(r.status(), Status(Fault::kInternalFailure, ""));

  // A name Status does not know keeps its name in the message.
  r = ParseResponse(400, R"({"__type":"x#BrandNewFault","message":"m"})", "");
  EXPECT_EQ(r.status(), Status(Fault::kInternalFailure, "BrandNewFault: m"));

  // The name from X-Amzn-ErrorType when the body has none.
  r = ParseResponse(400, "", "UnknownOperationException:http://internal.amazon.com/coral/");
  EXPECT_EQ(r.fault(), Fault::kUnknownOperation);
}

TEST(ResponseTest, StatusesWithoutAFaultName) {
  EXPECT_EQ(ParseResponse(503, "", "").fault(), Fault::kServiceUnavailable);
  EXPECT_EQ(ParseResponse(502, "<html>bad gateway</html>", "").fault(), Fault::kServiceUnavailable);
  EXPECT_EQ(ParseResponse(504, "", "").fault(), Fault::kServiceUnavailable);
  EXPECT_EQ(ParseResponse(500, "", "").fault(), Fault::kInternalFailure);
  EXPECT_EQ(ParseResponse(429, "", "").fault(), Fault::kThrottling);
  EXPECT_EQ(ParseResponse(403, "Forbidden", "").fault(), Fault::kAccessDenied);
  EXPECT_EQ(ParseResponse(413, "", "").fault(), Fault::kValidation);
  Result<Json> r = ParseResponse(404, "not here", "");
  EXPECT_EQ(r.status(), Status(Fault::kInternalFailure, "HTTP 404: not here"));
}

// --- retry policy --------------------------------------------------------------------

TransportResult Response(long status) {
  TransportResult t;
  t.response.status = status;
  return t;
}

TransportResult Failure(TransportFailure f) {
  TransportResult t;
  t.failure = f;
  return t;
}

TEST(RetryTest, Classify) {
  Result<Json> ok = Json::object();
  Result<Json> throttled(Fault::kThrottling, "");
  Result<Json> unknown(Fault::kUnknownResource, "");
  Result<Json> internal(Fault::kInternalFailure, "");
  Result<Json> unavailable(Fault::kServiceUnavailable, "");
  EXPECT_EQ(Classify(Response(200), ok), Disposition::kFinal);
  EXPECT_EQ(Classify(Response(400), unknown), Disposition::kFinal);
  EXPECT_EQ(Classify(Response(400), throttled), Disposition::kRetry);
  EXPECT_EQ(Classify(Response(429), throttled), Disposition::kRetry);
  EXPECT_EQ(Classify(Response(503), unavailable), Disposition::kRetry);
  EXPECT_EQ(Classify(Response(500), internal), Disposition::kRetryIfSafe);
  EXPECT_EQ(Classify(Response(502), unavailable), Disposition::kRetryIfSafe);
  // An unknown 400 fault maps to kInternalFailure but is not retried.
  EXPECT_EQ(Classify(Response(400), internal), Disposition::kFinal);
  EXPECT_EQ(Classify(Failure(TransportFailure::kNotSent), unavailable), Disposition::kRetry);
  EXPECT_EQ(Classify(Failure(TransportFailure::kMaybeSent), unavailable),
            Disposition::kRetryIfSafe);
  EXPECT_EQ(Classify(Failure(TransportFailure::kAborted), unavailable), Disposition::kFinal);
  EXPECT_EQ(Classify(Failure(TransportFailure::kFatal), unavailable), Disposition::kFinal);
  EXPECT_FALSE(SafeToRepeat("SignalWorkflowExecution"));
  EXPECT_TRUE(SafeToRepeat("RespondActivityTaskCompleted"));
  EXPECT_TRUE(SafeToRepeat("StartWorkflowExecution"));
}

TEST(RetryTest, FullJitterBackoff) {
  const milliseconds base(100);
  const milliseconds cap(20000);
  EXPECT_EQ(BackoffCeiling(0, base, cap), milliseconds(100));
  EXPECT_EQ(BackoffCeiling(1, base, cap), milliseconds(200));
  EXPECT_EQ(BackoffCeiling(4, base, cap), milliseconds(1600));
  EXPECT_EQ(BackoffCeiling(7, base, cap), milliseconds(12800));
  EXPECT_EQ(BackoffCeiling(8, base, cap), cap);
  EXPECT_EQ(BackoffCeiling(1000, base, cap), cap);  // no overflow
  EXPECT_EQ(FullJitter(3, base, cap, 0.0), milliseconds(0));
  EXPECT_EQ(FullJitter(3, base, cap, 0.5), milliseconds(400));
  EXPECT_EQ(FullJitter(3, base, cap, 0.999999), milliseconds(800));
  EXPECT_EQ(FullJitter(50, base, cap, 0.25), milliseconds(5000));
}

// --- throttling ---------------------------------------------------------------------------

TEST(TokenBucketTest, BurstThenRefillRate) {
  const SteadyTime t0{};
  TokenBucket bucket({2, 10}, t0);  // 2 at once, then 10 per second
  EXPECT_EQ(bucket.Reserve(1, t0), std::chrono::nanoseconds(0));
  EXPECT_EQ(bucket.Reserve(1, t0), std::chrono::nanoseconds(0));
  // In debt: each later caller waits its 100 ms behind the one before.
  EXPECT_EQ(bucket.Reserve(1, t0), milliseconds(100));
  EXPECT_EQ(bucket.Reserve(1, t0), milliseconds(200));
  // After 1 s the debt of 2 is paid and 8 tokens are back, capped at 2.
  EXPECT_DOUBLE_EQ(bucket.Available(t0 + std::chrono::seconds(1)), 2.0);
  EXPECT_DOUBLE_EQ(bucket.Available(t0 + std::chrono::seconds(5)), 2.0);
  EXPECT_EQ(bucket.Reserve(1, t0 + std::chrono::seconds(5)), std::chrono::nanoseconds(0));
}

TEST(ThrottleTest, DecisionsSpendTheirOwnBuckets) {
  const SteadyTime t0{};
  Throttle throttle(
      {{"RespondDecisionTaskCompleted", {100, 100}}, {"ScheduleActivityTask", {3, 10}}});
  Json request = {{"taskToken", "t"}, {"decisions", Json::array()}};
  for (int i = 0; i < 5; ++i) {
    request["decisions"].push_back({{"decisionType", "ScheduleActivityTask"}});
  }
  request["decisions"].push_back({{"decisionType", "RecordMarker"}});  // not throttled
  // 5 against a burst of 3: 2 in debt, 200 ms at 10 per second.
  EXPECT_EQ(throttle.Reserve("RespondDecisionTaskCompleted", request, t0), milliseconds(200));
  // Operations without a limit pass.
  EXPECT_EQ(throttle.Reserve("ListDomains", Json::object(), t0), std::chrono::nanoseconds(0));
}

TEST(ThrottleTest, PublishedRatesCoverEveryOperation) {
  const auto& limits = SwfRateLimits();
  for (const char* op :
       {"PollForActivityTask", "PollForDecisionTask", "RespondActivityTaskCompleted",
        "RespondDecisionTaskCompleted", "StartWorkflowExecution"}) {
    EXPECT_EQ(limits.at(op).burst, 2000) << op;
    EXPECT_EQ(limits.at(op).per_second, 200) << op;
  }
  EXPECT_EQ(limits.at("RecordActivityTaskHeartbeat").per_second, 160);
  EXPECT_EQ(limits.at("GetWorkflowExecutionHistory").per_second, 60);
  EXPECT_EQ(limits.at("SignalWorkflowExecution").per_second, 30);
  EXPECT_EQ(limits.at("ScheduleActivityTask").burst, 1000);
  EXPECT_EQ(limits.at("StartChildWorkflowExecution").per_second, 12);
  EXPECT_EQ(limits.size(), 39u + 3u);  // the 39 operations and 3 decision types
}

}  // namespace
}  // namespace garcon::client
