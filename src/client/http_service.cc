// HttpService: swf::Service calls as signed AWS JSON 1.0 POSTs, with
// throttling and retries.
#include <spdlog/spdlog.h>

#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>

#include "base/status_macros.h"
#include "client/endpoint.h"
#include "client/response.h"
#include "client/retry.h"
#include "client/throttle.h"
#include "client/transport.h"
#include "garcon/client.h"
#include "protocol/model.h"
#include "protocol/sigv4.h"

namespace garcon::client {
namespace {

constexpr std::string_view kTargetPrefix = "SimpleWorkflowService.";
constexpr std::string_view kContentType = "application/x-amz-json-1.0";

bool IsPoll(std::string_view operation) {
  return operation == "PollForDecisionTask" || operation == "PollForActivityTask";
}

Status ShutDown() { return {Fault::kServiceUnavailable, "the SWF client is shut down"}; }

std::chrono::milliseconds CeilMilliseconds(std::chrono::nanoseconds d) {
  return std::chrono::ceil<std::chrono::milliseconds>(d);
}

}  // namespace

struct HttpService::Impl {
  Impl(ClientOptions o, Endpoint e)
      : options(std::move(o)),
        endpoint(std::move(e)),
        url(endpoint.Url()),
        host_header(endpoint.HostHeader()),
        transport(TransportOptions{options.connect_timeout, options.ca_bundle, options.proxy,
                                   options.user_agent, options.max_idle_connections}),
        rng(std::random_device{}()) {
    if (!options.clock) options.clock = SystemClockInstance();
    if (options.throttle) {
      auto limits = SwfRateLimits();
      for (const auto& [name, limit] : options.rate_limits) limits[name] = limit;
      throttle = std::make_unique<Throttle>(std::move(limits));
    }
  }

  // Sleeps `d`, or less when shut down. The injected sleep is called even
  // for 0 ms (so that a test sees every retry).
  void Sleep(std::chrono::milliseconds d) {
    if (options.sleep) {
      options.sleep(d);
      return;
    }
    if (d <= std::chrono::milliseconds::zero()) return;
    std::unique_lock lock(mu);
    cv.wait_for(lock, d, [this] { return shut_down; });
  }

  bool IsShutDown() {
    std::lock_guard lock(mu);
    return shut_down;
  }

  double UnitRandom() {
    std::lock_guard lock(mu);
    return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
  }

  HttpRequest BuildRequest(std::string_view operation, std::string body) const {
    sigv4::Request r;
    r.method = "POST";
    r.path = endpoint.path;
    r.headers = {{"Host", host_header},
                 {"X-Amz-Target", std::string(protocol::IsGarconOperation(operation)
                                                  ? protocol::kGarconTargetPrefix
                                                  : kTargetPrefix) +
                                      std::string(operation)},
                 {"Content-Type", std::string(kContentType)}};
    r.body = std::move(body);
    if (!options.anonymous && !options.credentials.empty()) {
      sigv4::SignOptions sign;
      sign.region = options.region;
      sign.service = "swf";
      sign.now = options.clock->Now();
      sigv4::Sign(r,
                  sigv4::Credentials{options.credentials.access_key_id,
                                     options.credentials.secret_access_key,
                                     options.credentials.session_token},
                  sign);
    } else {
      r.SetHeader("X-Amz-Date", sigv4::AmzDate(options.clock->Now()));
    }
    HttpRequest out;
    out.url = url;
    out.headers = std::move(r.headers);
    out.body = std::move(r.body);
    out.timeout = IsPoll(operation) ? options.poll_timeout : options.request_timeout;
    return out;
  }

  Result<Json> Call(std::string_view operation, const Json& request) {
    if (IsShutDown()) return ShutDown();
    if (!protocol::Model::Get().HasOperation(operation) &&
        !protocol::IsGarconOperation(operation)) {
      return Status(Fault::kUnknownOperation, "Unknown operation " + std::string(operation));
    }
    if (!request.is_object()) {
      return SerializationError("the request of " + std::string(operation) +
                                " must be a JSON object");
    }
    std::string body;
    try {
      body = request.dump();
    } catch (const Json::exception& e) {
      return SerializationError("the request of " + std::string(operation) +
                                " cannot be sent as JSON: " + e.what());
    }

    if (throttle) {
      const auto wait =
          CeilMilliseconds(throttle->Reserve(operation, request, std::chrono::steady_clock::now()));
      if (wait > std::chrono::milliseconds::zero()) {
        Sleep(wait);
        if (IsShutDown()) return ShutDown();
      }
    }

    bool maybe_applied = false;  // an earlier attempt may have been acted on
    for (int attempt = 0;; ++attempt) {
      TransportResult sent = transport.Post(BuildRequest(operation, body));
      Result<Json> result =
          sent.failure == TransportFailure::kNone
              ? ParseResponse(sent.response.status, sent.response.body, sent.response.error_type)
              : Result<Json>(Status(Fault::kServiceUnavailable,
                                    sent.failure == TransportFailure::kAborted
                                        ? ShutDown().message()
                                        : options.endpoint + ": " + sent.message));
      const Disposition disposition = Classify(sent, result);
      const bool retry = attempt < options.max_retries &&
                         (disposition == Disposition::kRetry ||
                          (disposition == Disposition::kRetryIfSafe && SafeToRepeat(operation)));
      if (!retry) {
        if (maybe_applied && !result.ok() && IsDuplicateFault(result.fault())) {
          return Status(result.fault(),
                        result.status().message() +
                            " (after a retry: an earlier attempt, cut off after the request was "
                            "sent, may have succeeded)");
        }
        return result;
      }
      if (disposition == Disposition::kRetryIfSafe) maybe_applied = true;
      const auto delay =
          FullJitter(attempt, options.backoff_base, options.backoff_cap, UnitRandom());
      spdlog::debug("SWF {} failed ({}); retry {} of {} in {} ms", operation,
                    result.status().ToString(), attempt + 1, options.max_retries, delay.count());
      Sleep(delay);
      if (IsShutDown()) return ShutDown();
    }
  }

  ClientOptions options;
  const Endpoint endpoint;
  const std::string url;
  const std::string host_header;
  CurlTransport transport;
  std::unique_ptr<Throttle> throttle;

  std::mutex mu;
  std::condition_variable cv;
  bool shut_down = false;
  std::mt19937_64 rng;
};

Result<std::unique_ptr<HttpService>> HttpService::Create(ClientOptions options) {
  ASSIGN_OR_RETURN(Endpoint endpoint, ParseEndpoint(options.endpoint));
  if (options.region.empty()) return ValidationError("no region: set ClientOptions::region");
  using std::chrono::milliseconds;
  if (options.connect_timeout <= milliseconds::zero() ||
      options.request_timeout <= milliseconds::zero() ||
      options.poll_timeout <= milliseconds::zero()) {
    return ValidationError("the connect, request and poll timeouts must be positive");
  }
  if (options.max_retries < 0) return ValidationError("max_retries must not be negative");
  if (options.backoff_base < milliseconds::zero() || options.backoff_cap < milliseconds::zero()) {
    return ValidationError("the backoff base and cap must not be negative");
  }
  return std::unique_ptr<HttpService>(
      new HttpService(std::make_unique<Impl>(std::move(options), std::move(endpoint))));
}

HttpService::HttpService(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpService::~HttpService() = default;

Result<Json> HttpService::Call(std::string_view operation, const Json& request) {
  return impl_->Call(operation, request);
}

void HttpService::Shutdown() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->shut_down = true;
  }
  impl_->cv.notify_all();
  impl_->transport.Abort();
}

const ClientOptions& HttpService::options() const { return impl_->options; }

}  // namespace garcon::client
