#include "client/transport.h"

namespace garcon::client {
namespace {

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::size_t OnBody(char* data, std::size_t size, std::size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    char a = s[i];
    char b = prefix[i];
    if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
    if (b >= 'A' && b <= 'Z') b = static_cast<char>(b - 'A' + 'a');
    if (a != b) return false;
  }
  return true;
}

std::string HeaderValue(std::string_view line, std::size_t name_size) {
  std::string_view v = line.substr(name_size);
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == '\r' || v.back() == '\n' || v.back() == ' ')) {
    v.remove_suffix(1);
  }
  return std::string(v);
}

std::size_t OnHeader(char* data, std::size_t size, std::size_t count, void* user) {
  auto* response = static_cast<HttpResponse*>(user);
  std::string_view line(data, size * count);
  if (line.starts_with("HTTP/")) {
    // A new response (after a redirect or an interim 1xx): forget the last.
    response->request_id.clear();
    response->error_type.clear();
  } else if (StartsWithIgnoreCase(line, "x-amzn-requestid:")) {
    response->request_id = HeaderValue(line, 17);
  } else if (StartsWithIgnoreCase(line, "x-amzn-errortype:")) {
    response->error_type = HeaderValue(line, 17);
  }
  return size * count;
}

int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<const std::atomic<bool>*>(user)->load() ? 1 : 0;
}

TransportFailure Classify(CURLcode code, bool request_sent) {
  switch (code) {
    case CURLE_OK:
      return TransportFailure::kNone;
    case CURLE_ABORTED_BY_CALLBACK:
      return TransportFailure::kAborted;
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_NOT_BUILT_IN:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_OUT_OF_MEMORY:
    case CURLE_BAD_FUNCTION_ARGUMENT:
      return TransportFailure::kFatal;
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SSL_CONNECT_ERROR:
      return TransportFailure::kNotSent;
    default:
      // Timeouts, resets, empty replies: whether the server saw the request
      // depends on whether any of it went out.
      return request_sent ? TransportFailure::kMaybeSent : TransportFailure::kNotSent;
  }
}

}  // namespace

CurlTransport::CurlTransport(TransportOptions options) : options_(std::move(options)) {
  GlobalInit();
  share_ = curl_share_init();
  if (share_ != nullptr) {
    curl_share_setopt(share_, CURLSHOPT_LOCKFUNC, &CurlTransport::Lock);
    curl_share_setopt(share_, CURLSHOPT_UNLOCKFUNC, &CurlTransport::Unlock);
    curl_share_setopt(share_, CURLSHOPT_USERDATA, this);
    curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  }
}

CurlTransport::~CurlTransport() {
  for (CURL* handle : idle_) curl_easy_cleanup(handle);
  idle_.clear();
  if (share_ != nullptr) curl_share_cleanup(share_);
}

void CurlTransport::Lock(CURL*, curl_lock_data data, curl_lock_access, void* self) {
  static_cast<CurlTransport*>(self)->share_mu_[data].lock();
}

void CurlTransport::Unlock(CURL*, curl_lock_data data, void* self) {
  static_cast<CurlTransport*>(self)->share_mu_[data].unlock();
}

CURL* CurlTransport::Acquire() {
  {
    std::lock_guard lock(pool_mu_);
    if (!idle_.empty()) {
      CURL* handle = idle_.back();  // the most recently used: its connection is warm
      idle_.pop_back();
      return handle;
    }
  }
  CURL* handle = curl_easy_init();
  if (handle == nullptr) return nullptr;
  if (share_ != nullptr) curl_easy_setopt(handle, CURLOPT_SHARE, share_);
  // Settings that never change for a handle.
  curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);  // threads: no SIGALRM for DNS timeouts
  curl_easy_setopt(handle, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(handle, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(handle, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options_.connect_timeout.count()));
  if (!options_.user_agent.empty()) {
    curl_easy_setopt(handle, CURLOPT_USERAGENT, options_.user_agent.c_str());
  }
  if (!options_.ca_bundle.empty()) {
    curl_easy_setopt(handle, CURLOPT_CAINFO, options_.ca_bundle.c_str());
  }
  if (options_.proxy) curl_easy_setopt(handle, CURLOPT_PROXY, options_.proxy->c_str());
  curl_easy_setopt(handle, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(handle, CURLOPT_XFERINFOFUNCTION, &OnProgress);
  curl_easy_setopt(handle, CURLOPT_XFERINFODATA, &aborted_);
  curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(handle, CURLOPT_HEADERFUNCTION, &OnHeader);
  return handle;
}

void CurlTransport::Release(CURL* handle) {
  {
    std::lock_guard lock(pool_mu_);
    if (idle_.size() < options_.max_idle_handles && !aborted_.load()) {
      idle_.push_back(handle);
      return;
    }
  }
  curl_easy_cleanup(handle);
}

void CurlTransport::Abort() {
  aborted_.store(true);
  std::vector<CURL*> idle;
  {
    std::lock_guard lock(pool_mu_);
    idle.swap(idle_);
  }
  for (CURL* handle : idle) curl_easy_cleanup(handle);
}

TransportResult CurlTransport::Post(const HttpRequest& request) {
  TransportResult result;
  if (aborted_.load()) {
    result.failure = TransportFailure::kAborted;
    result.message = "the client is shut down";
    return result;
  }
  CURL* handle = Acquire();
  if (handle == nullptr) {
    result.failure = TransportFailure::kFatal;
    result.message = "curl_easy_init failed";
    return result;
  }

  curl_slist* headers = nullptr;
  for (const auto& [name, value] : request.headers) {
    headers = curl_slist_append(headers, (name + ": " + value).c_str());
  }
  // Not sent: libcurl's default Accept, and Expect: 100-continue, which
  // would cost a round trip on bodies over 1 KB.
  headers = curl_slist_append(headers, "Accept:");
  headers = curl_slist_append(headers, "Expect:");

  char error[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(handle, CURLOPT_URL, request.url.c_str());
  if (request.method == "GET") {
    curl_easy_setopt(handle, CURLOPT_HTTPGET, 1L);
  } else {
    // POST, or PUT sent the same way with its method renamed.
    curl_easy_setopt(handle, CURLOPT_POST, 1L);
    curl_easy_setopt(handle, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
    if (request.method != "POST") {
      curl_easy_setopt(handle, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    }
  }
  curl_easy_setopt(handle, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
  curl_easy_setopt(handle, CURLOPT_WRITEDATA, &result.response.body);
  curl_easy_setopt(handle, CURLOPT_HEADERDATA, &result.response);

  CURLcode code = curl_easy_perform(handle);

  long request_size = 0;
  curl_easy_getinfo(handle, CURLINFO_REQUEST_SIZE, &request_size);
  long new_connections = 0;
  curl_easy_getinfo(handle, CURLINFO_NUM_CONNECTS, &new_connections);
  result.reused_connection = new_connections == 0;
  result.failure = Classify(code, request_size > 0);
  if (code == CURLE_OK) {
    curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &result.response.status);
  } else {
    result.message = error[0] != '\0' ? error : curl_easy_strerror(code);
    if (result.failure == TransportFailure::kAborted) result.message = "the client is shut down";
  }

  // Nothing of this call may outlive it in the handle.
  curl_easy_setopt(handle, CURLOPT_HTTPHEADER, nullptr);
  curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, nullptr);
  curl_easy_setopt(handle, CURLOPT_POSTFIELDS, nullptr);
  curl_easy_setopt(handle, CURLOPT_CUSTOMREQUEST, nullptr);
  curl_easy_setopt(handle, CURLOPT_WRITEDATA, nullptr);
  curl_easy_setopt(handle, CURLOPT_HEADERDATA, nullptr);
  curl_slist_free_all(headers);
  if (code == CURLE_OK || result.failure == TransportFailure::kNotSent) {
    Release(handle);
  } else {
    // A connection that timed out or broke mid-request is not worth keeping.
    curl_easy_cleanup(handle);
  }
  return result;
}

}  // namespace garcon::client
