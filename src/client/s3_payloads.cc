// S3Payloads: payloads in an S3 bucket, for flows on Amazon SWF (and any
// S3 API: moto's in the tests). PUT and GET of one object per payload,
// SigV4-signed (service "s3") with the client's credentials. Objects are
// named {prefix}{domain}/{sha256 of the bytes}: content-addressed, so a put
// again is harmless and a retry always safe.
#include <chrono>
#include <utility>

#include "base/status_macros.h"
#include "client/endpoint.h"
#include "client/transport.h"
#include "garcon/client.h"
#include "protocol/sigv4.h"

namespace garcon::client {
namespace {

constexpr std::string_view kScheme = "s3://";

bool Unreserved(std::string_view s) {
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.' || c == '~' || c == '/';
    if (!ok) return false;
  }
  return true;
}

// The text of <Tag> in an S3 XML error body.
std::string XmlValue(const std::string& body, const std::string& tag) {
  const std::string open = "<" + tag + ">";
  const auto begin = body.find(open);
  if (begin == std::string::npos) return "";
  const auto end = body.find("</" + tag + ">", begin);
  if (end == std::string::npos) return "";
  return body.substr(begin + open.size(), end - begin - open.size());
}

class S3PayloadStore : public PayloadStore {
 public:
  S3PayloadStore(S3PayloadOptions options, Endpoint endpoint, bool path_style)
      : options_(std::move(options)),
        endpoint_(std::move(endpoint)),
        path_style_(path_style),
        transport_(TransportOptions{options_.client.connect_timeout, options_.client.ca_bundle,
                                    options_.client.proxy, "garcon-payloads", 16}) {}

  Result<std::string> Put(std::string_view domain, std::string_view data) override {
    const std::string key = options_.prefix + DomainPart(domain) + "/" + sigv4::Sha256Hex(data);
    ASSIGN_OR_RETURN(HttpResponse response, Send("PUT", key, std::string(data)));
    if (response.status != 200) return S3Error(response, key);
    return std::string(kScheme) + options_.bucket + "/" + key;
  }

  Result<std::string> Get(std::string_view /*domain*/, std::string_view locator) override {
    const std::string bucket_prefix = std::string(kScheme) + options_.bucket + "/";
    if (locator.substr(0, bucket_prefix.size()) != bucket_prefix) {
      return Status(garcon::Fault::kValidation,
                    "not a payload of bucket " + options_.bucket + ": " + std::string(locator));
    }
    const std::string key(locator.substr(bucket_prefix.size()));
    if (!Unreserved(key)) {
      return Status(garcon::Fault::kValidation, "not a payload key: " + key);
    }
    ASSIGN_OR_RETURN(HttpResponse response, Send("GET", key, ""));
    if (response.status != 200) return S3Error(response, key);
    return std::move(response.body);
  }

 private:
  // The domain as one path segment of unreserved characters (else its hash).
  static std::string DomainPart(std::string_view domain) {
    if (!domain.empty() && domain.size() <= 256 && Unreserved(domain) &&
        domain.find('/') == std::string_view::npos && domain != "." && domain != "..") {
      return std::string(domain);
    }
    return "domain-" + sigv4::Sha256Hex(domain).substr(0, 32);
  }

  Result<HttpResponse> Send(const std::string& method, const std::string& key, std::string body) {
    sigv4::Request r;
    r.method = method;
    const std::string base = endpoint_.path == "/" ? "" : endpoint_.path;
    r.path = base + (path_style_ ? "/" + options_.bucket : "") + "/" + key;
    const std::string host = path_style_ ? endpoint_.HostHeader()
                                         : options_.bucket + "." + endpoint_.HostHeader();
    r.headers = {{"Host", host}, {"x-amz-content-sha256", sigv4::Sha256Hex(body)}};
    // Said, or libcurl would call a PUT's body a form.
    if (method == "PUT") r.headers.emplace_back("Content-Type", "application/octet-stream");
    r.body = std::move(body);
    if (!options_.client.anonymous && !options_.client.credentials.empty()) {
      sigv4::SignOptions sign;
      sign.region = options_.client.region;
      sign.service = "s3";
      sign.now = std::chrono::system_clock::now();
      sigv4::Sign(r,
                  sigv4::Credentials{options_.client.credentials.access_key_id,
                                     options_.client.credentials.secret_access_key,
                                     options_.client.credentials.session_token},
                  sign);
    }
    HttpRequest request;
    request.method = method;
    request.url = endpoint_.scheme + "://" + host + r.path;
    request.headers = std::move(r.headers);
    request.body = std::move(r.body);
    request.timeout = std::chrono::milliseconds(120000);  // 16 MiB on a slow link
    // A few tries: objects are content-addressed, so any retry is safe.
    TransportResult result;
    for (int attempt = 0; attempt < 3; ++attempt) {
      result = transport_.Post(request);
      if (result.failure == TransportFailure::kNone && result.response.status < 500) break;
    }
    if (result.failure != TransportFailure::kNone) {
      return Status(garcon::Fault::kServiceUnavailable, "S3: " + result.message);
    }
    return std::move(result.response);
  }

  static Status S3Error(const HttpResponse& response, const std::string& key) {
    const std::string code = XmlValue(response.body, "Code");
    const std::string message = XmlValue(response.body, "Message");
    std::string text = "S3 answered " + std::to_string(response.status) +
                       (code.empty() ? "" : " " + code) +
                       (message.empty() ? "" : ": " + message) + " for " + key;
    if (response.status == 404) return Status(garcon::Fault::kUnknownResource, text);
    if (response.status == 403) return Status(garcon::Fault::kAccessDenied, text);
    if (response.status >= 500) return Status(garcon::Fault::kServiceUnavailable, text);
    return Status(garcon::Fault::kValidation, text);
  }

  const S3PayloadOptions options_;
  const Endpoint endpoint_;
  const bool path_style_;
  CurlTransport transport_;
};

}  // namespace

Result<std::shared_ptr<PayloadStore>> S3Payloads(S3PayloadOptions options, const Environment& env) {
  if (options.bucket.empty()) return Status(garcon::Fault::kValidation, "S3 payloads: no bucket");
  if (!options.prefix.empty() && options.prefix.back() != '/') options.prefix += '/';
  if (!Unreserved(options.prefix)) {
    return Status(garcon::Fault::kValidation,
                  "S3 payloads: the prefix may hold letters, digits, '-', '_', '.', '~' and '/' "
                  "only: " + options.prefix);
  }
  std::string url = options.endpoint;
  if (url.empty()) {
    auto it = env.find("AWS_ENDPOINT_URL_S3");
    if (it != env.end()) url = it->second;
  }
  const bool path_style = !url.empty();  // a given endpoint (moto, MinIO) takes the bucket in the path
  if (url.empty()) url = "https://s3." + options.client.region + ".amazonaws.com";
  ASSIGN_OR_RETURN(Endpoint endpoint, ParseEndpoint(url));
  return std::shared_ptr<PayloadStore>(
      std::make_shared<S3PayloadStore>(std::move(options), std::move(endpoint), path_style));
}

Result<std::shared_ptr<PayloadStore>> PayloadsFromEnvironment(const ClientOptions& client,
                                                              const Environment& env) {
  auto it = env.find("GARCON_PAYLOAD_BUCKET");
  if (it == env.end() || it->second.empty()) return std::shared_ptr<PayloadStore>();
  std::string_view value = it->second;
  if (value.substr(0, kScheme.size()) == kScheme) value.remove_prefix(kScheme.size());
  S3PayloadOptions options;
  options.client = client;
  const auto slash = value.find('/');
  options.bucket = std::string(value.substr(0, slash));
  options.prefix = slash == std::string_view::npos ? "garcon-payloads/"
                                                   : std::string(value.substr(slash + 1));
  return S3Payloads(std::move(options), env);
}

}  // namespace garcon::client
