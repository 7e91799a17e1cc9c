// garcon::client: swf::Service over HTTP(S), the way the AWS SDKs talk to
// Amazon SWF (AWS JSON 1.0, SigV4), so a decider or worker can run against
// Amazon SWF itself, `garcon server`, or any other SWF implementation.
//
//   ClientOptions options;
//   options.endpoint = "http://127.0.0.1:7800";       // or empty: from env
//   GARCON_ASSIGN_OR_RETURN(options, ResolveOptions(options, ProcessEnvironment()));
//   GARCON_ASSIGN_OR_RETURN(auto swf, HttpService::Create(options));
//   Result<Json> domains = swf->Call("ListDomains", {{"registrationStatus", "REGISTERED"}});
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "garcon/clock.h"
#include "garcon/payloads.h"
#include "garcon/service.h"
#include "garcon/status.h"
#include "garcon/version.h"

namespace garcon::client {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  // Of temporary credentials (STS); sent, and signed, as X-Amz-Security-Token.
  std::string session_token;

  bool empty() const { return access_key_id.empty() && secret_access_key.empty(); }
};

// A token bucket: `burst` tokens at most, refilled at `per_second`.
struct RateLimit {
  double burst = 0;
  double per_second = 0;
};

// Amazon SWF's published per-account throttling quotas (SWF Developer Guide,
// "Amazon SWF throttling quotas"), by operation name, plus the decision
// quotas by decision type (ScheduleActivityTask, StartTimer,
// StartChildWorkflowExecution), which RespondDecisionTaskCompleted spends
// one token of per decision.
const std::map<std::string, RateLimit, std::less<>>& SwfRateLimits();

struct ClientOptions {
  // "https://swf.us-east-1.amazonaws.com", "http://127.0.0.1:7800", ...
  // http or https; a path is kept (and signed), a query is refused.
  std::string endpoint;
  // Signing region (the credential scope).
  std::string region;
  // Profile of ~/.aws/credentials and ~/.aws/config used by ResolveOptions;
  // empty: AWS_PROFILE, else "default". Naming one here (like boto3's
  // `profile_name`) makes the AWS_ACCESS_KEY_ID variables be ignored.
  std::string profile;
  Credentials credentials;
  // Send requests unsigned (for a `garcon server` that checks no
  // signature); ResolveOptions then does not require credentials. Requests
  // are also unsigned when `credentials` is empty.
  bool anonymous = false;

  // PEM bundle of CA certificates (AWS_CA_BUNDLE); empty: the system's.
  std::string ca_bundle;
  // Proxy URL; nullopt: libcurl's environment variables (https_proxy,
  // no_proxy, ...); "": no proxy at all.
  std::optional<std::string> proxy;

  std::chrono::milliseconds connect_timeout = std::chrono::seconds(5);
  // Whole-request timeout of every call but the long polls.
  std::chrono::milliseconds request_timeout = std::chrono::seconds(10);
  // Whole-request timeout of PollForDecisionTask / PollForActivityTask: SWF
  // holds a long poll up to 60 s, so this must stay above 60 s against SWF.
  std::chrono::milliseconds poll_timeout = std::chrono::seconds(70);

  // Retries after the first attempt. Retried: ThrottlingException, HTTP 5xx
  // (ServiceUnavailable, InternalFailure, gateway errors) and transport
  // failures (connection refused, reset, timed out). Never retried: any
  // other fault (UnknownResourceFault, ValidationException, ...).
  //
  // A failure after the request may have reached the server (a timeout or
  // reset after sending, an HTTP 500/502/504) is retried for every operation
  // except SignalWorkflowExecution, the one operation whose duplicate SWF
  // would silently apply twice: a duplicate Respond* or heartbeat gets
  // UnknownResourceFault (stale token), StartWorkflowExecution
  // WorkflowExecutionAlreadyStartedFault, Register* *AlreadyExistsFault,
  // the others are reads or idempotent. When such a retry ends in one of
  // those faults the message says an earlier attempt may have succeeded.
  // Throttling, HTTP 503 and failures to connect never reached the service
  // and are retried for every operation.
  int max_retries = 5;
  // Backoff before retry n (0-based): uniform in [0, min(cap, base * 2^n)]
  // ("full jitter").
  std::chrono::milliseconds backoff_base = std::chrono::milliseconds(100);
  std::chrono::milliseconds backoff_cap = std::chrono::seconds(20);

  // Client-side token buckets, one per operation (and per throttled
  // decision type) at SWF's published rates: a call waits for its token
  // instead of being throttled by the service. The buckets are this
  // HttpService's; processes sharing an account share the service's quota.
  bool throttle = false;
  // Replaces or adds buckets over SwfRateLimits() when `throttle` is on.
  std::map<std::string, RateLimit, std::less<>> rate_limits;

  // Idle keep-alive connections kept for reuse (one per concurrent caller
  // at the peak is what a busy process needs).
  std::size_t max_idle_connections = 64;
  // "garcon-cpp/MAJOR.MINOR.PATCH" by default.
  std::string user_agent = "garcon-cpp/" GARCON_VERSION_STRING;

  // Time for X-Amz-Date. Default: the system clock.
  std::shared_ptr<Clock> clock;
  // How backoff and throttle waits sleep: called, on the calling thread
  // (so possibly concurrently), before every retry (even for a 0 ms
  // backoff) and for every throttle wait. Default: a wait that
  // HttpService::Shutdown interrupts. Tests inject one that records.
  std::function<void(std::chrono::milliseconds)> sleep;
};

// --- resolution --------------------------------------------------------------
// Pure functions of their arguments and of the files the environment names,
// following botocore's precedence. `env` holds environment variables; files
// are found through AWS_SHARED_CREDENTIALS_FILE (default
// $HOME/.aws/credentials) and AWS_CONFIG_FILE (default $HOME/.aws/config).
// An empty variable counts as unset.

using Environment = std::map<std::string, std::string, std::less<>>;

// This process's environment variables.
Environment ProcessEnvironment();

// `given`, else AWS_PROFILE, else "default".
std::string ProfileName(std::string_view given, const Environment& env);

// The first found of:
// 1. `given` (both the access key id and the secret);
// 2. AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN, or the
//    legacy AWS_SECURITY_TOKEN), unless `profile` is given;
// 3. section [NAME] of the credentials file (aws_access_key_id,
//    aws_secret_access_key, aws_session_token);
// 4. section [profile NAME] (or [default]) of the config file, same keys;
// where NAME is ProfileName(profile, env).
// Errors (kMissingAuthenticationToken, with a message saying what to set):
// none found; only one of the key id and the secret (given, in the
// environment or in a profile); a profile named by `profile` or AWS_PROFILE
// that neither file has.
Result<Credentials> ResolveCredentials(const Credentials& given, std::string_view profile,
                                       const Environment& env);

// `given`, else AWS_REGION, else AWS_DEFAULT_REGION, else the profile's
// `region` in the config file, else "us-east-1".
std::string ResolveRegion(std::string_view given, std::string_view profile, const Environment& env);

// `given`, else AWS_ENDPOINT_URL_SWF, else AWS_ENDPOINT_URL, else the
// profile's `endpoint_url` in the config file (the last three skipped when
// AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is "true"), else
// "https://swf.{region}.amazonaws.com" (".amazonaws.com.cn" for cn-*).
std::string ResolveEndpoint(std::string_view given, std::string_view region,
                            std::string_view profile, const Environment& env);

// Fills `options`' region, endpoint, credentials (unless anonymous) and
// ca_bundle (AWS_CA_BUNDLE, else the profile's ca_bundle) by the rules
// above. Errors: those of ResolveCredentials; kValidation for an endpoint
// that is not an http(s) URL or a region that is not a region name.
Result<ClientOptions> ResolveOptions(ClientOptions options, const Environment& env);

// --- payloads in S3 -----------------------------------------------------------

// Where a flow on Amazon SWF keeps values past SWF's 32,768 characters
// (garcon/payloads.h): objects {prefix}{domain}/{sha256} of `bucket`. The
// bucket must exist; give it a lifecycle rule that keeps objects longer than
// the domain's retention plus its longest run.
struct S3PayloadOptions {
  std::string bucket;
  std::string prefix = "garcon-payloads/";
  // Empty: AWS_ENDPOINT_URL_S3, else https://s3.{region}.amazonaws.com
  // (virtual-hosted: {bucket}.s3...). A given endpoint (moto, MinIO) gets
  // path-style requests: {endpoint}/{bucket}/{key}.
  std::string endpoint;
  // Region and credentials (resolved: see ResolveOptions).
  ClientOptions client;
};

// Errors: kValidation for no bucket, a prefix with other characters than
// letters, digits, - _ . ~ /, or a bad endpoint.
Result<std::shared_ptr<PayloadStore>> S3Payloads(S3PayloadOptions options, const Environment& env);

// S3Payloads for GARCON_PAYLOAD_BUCKET ("s3://bucket/prefix/" or "bucket"),
// with `client`'s region and credentials; null when it is not set.
Result<std::shared_ptr<PayloadStore>> PayloadsFromEnvironment(const ClientOptions& client,
                                                              const Environment& env);

// --- the service ---------------------------------------------------------------

// swf::Service over HTTP(S) with libcurl: POST {endpoint} with
// X-Amz-Target: SimpleWorkflowService.{operation}, SigV4-signed (service
// "swf"). Keep-alive connections are pooled and reused across calls.
// Thread-safe: any number of threads may call at once (each call in flight
// holds one connection).
//
// Call gives the response body as JSON (an empty body gives {}; an empty
// poll gives what the server sent: swf::HasTask tells), or:
// - the fault the server named in `__type` (the part after '#'), with its
//   `message` (or `Message`); a fault name Status does not know gives
//   kInternalFailure with "Name: message";
// - without a named fault: HTTP 503/502/504 kServiceUnavailable, 429
//   kThrottling, 403 kAccessDenied, other statuses kInternalFailure;
// - transport failures (refused, reset, timed out, TLS): kServiceUnavailable
//   with libcurl's message;
// - an operation not in SWF's model: kUnknownOperation, a request that is
//   not a JSON object or not valid UTF-8: kSerialization (nothing sent);
// each after the retries ClientOptions describes.
class HttpService final : public swf::Service {
 public:
  // Errors: kValidation for an endpoint that is not an http(s) URL, an
  // empty region, a timeout that is not positive or negative retries.
  // Options are used as given: see ResolveOptions.
  static Result<std::unique_ptr<HttpService>> Create(ClientOptions options);
  // Every call must have returned (Shutdown makes them return).
  ~HttpService() override;
  HttpService(const HttpService&) = delete;
  HttpService& operator=(const HttpService&) = delete;

  Result<Json> Call(std::string_view operation, const Json& request) override;

  // Makes calls in flight return (within about a second, even a long poll)
  // and every later call fail at once, with kServiceUnavailable "shut
  // down". A long poll cut this way may have been handed a task the caller
  // never sees; SWF times it out (START_TO_CLOSE) and hands it out again.
  // Idempotent; thread-safe.
  void Shutdown();

  const ClientOptions& options() const;

 private:
  struct Impl;
  explicit HttpService(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace garcon::client
