// HTTP POSTs over libcurl with a pool of easy handles: each call takes an
// idle handle (with its open keep-alive connection) or makes one, and gives
// it back when done, so sequential calls reuse one connection and
// concurrent calls each get their own. DNS answers and TLS sessions are
// shared between the handles.
#pragma once

#include <curl/curl.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace garcon::client {

struct HttpRequest {
  std::string method = "POST";  // POST, PUT (with the body) or GET
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds timeout{10000};  // the whole request
};

struct HttpResponse {
  long status = 0;
  std::string body;
  std::string request_id;  // x-amzn-RequestId
  std::string error_type;  // X-Amzn-ErrorType
};

// Why a request got no HTTP response.
enum class TransportFailure {
  kNone,       // a response came (of any HTTP status)
  kNotSent,    // nothing reached the server (refused, DNS, TLS handshake)
  kMaybeSent,  // failed after the request may have been sent (timeout, reset)
  kAborted,    // CurlTransport::Abort
  kFatal,      // retrying cannot help (bad URL, certificate rejected)
};

struct TransportResult {
  TransportFailure failure = TransportFailure::kNone;
  std::string message;  // libcurl's, when failure != kNone
  HttpResponse response;
  bool reused_connection = false;
};

struct TransportOptions {
  std::chrono::milliseconds connect_timeout{5000};
  std::string ca_bundle;
  std::optional<std::string> proxy;
  std::string user_agent;
  std::size_t max_idle_handles = 64;
};

// Thread-safe.
class CurlTransport {
 public:
  explicit CurlTransport(TransportOptions options);
  ~CurlTransport();
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;

  // Sends `request` (its method: POST by default). Blocks until the
  // response, a failure, the timeout, or Abort.
  TransportResult Post(const HttpRequest& request);

  // Makes transfers in flight fail (within about a second) and later ones
  // fail at once, with kAborted.
  void Abort();
  bool aborted() const { return aborted_.load(); }

 private:
  static void Lock(CURL* handle, curl_lock_data data, curl_lock_access access, void* self);
  static void Unlock(CURL* handle, curl_lock_data data, void* self);

  CURL* Acquire();
  void Release(CURL* handle);

  TransportOptions options_;
  CURLSH* share_ = nullptr;
  std::mutex share_mu_[CURL_LOCK_DATA_LAST];
  std::mutex pool_mu_;
  std::vector<CURL*> idle_;
  std::atomic<bool> aborted_{false};
};

}  // namespace garcon::client
