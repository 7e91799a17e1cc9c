// AWS Signature Version 4 (SigV4), as Amazon SWF and every AWS JSON service
// use it: the canonical request, the string to sign, the signing key, signing
// a request (the Authorization header) and verifying one, with the faults
// AWS answers a bad signature with. Shared by `garcon server` (Verify) and
// the HTTP client (Sign). Byte-for-byte compatible with botocore's SigV4Auth;
// tests/server/sigv4_test.cc holds vectors produced by botocore.
//
// Everything here is a pure function of its arguments: thread-safe, no
// globals, no clock reads (callers pass `now`).
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "garcon/clock.h"
#include "garcon/status.h"

namespace garcon::sigv4 {

inline constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

// An HTTP request as SigV4 sees it.
struct Request {
  std::string method = "POST";
  // The path as sent on the request line, percent-encoded as on the wire
  // ("/" for AWS JSON services). No query.
  std::string path = "/";
  // The query string as sent, without the '?' ("" when none).
  std::string query;
  // Header names in any case; a name may repeat (values then join with ',').
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  // The first value of header `name` (case-insensitive), if any.
  std::optional<std::string> Header(std::string_view name) const;
  // Replaces every header `name` (case-insensitive) with one `value`.
  void SetHeader(std::string_view name, std::string value);
};

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  // Session token of temporary credentials; sent as X-Amz-Security-Token.
  std::string session_token;
};

// --- building blocks ---------------------------------------------------------

// Lowercase hex of `bytes`.
std::string Hex(std::string_view bytes);
// SHA-256 of `data`, lowercase hex (the payload hash of a canonical request).
std::string Sha256Hex(std::string_view data);
// Raw (32-byte) HMAC-SHA256 of `data` under `key`.
std::string HmacSha256(std::string_view key, std::string_view data);
// RFC 3986 percent-encoding: A-Z a-z 0-9 - _ . ~ are kept, and so is '/'
// when `keep_slash`; every other byte becomes %XX (uppercase).
std::string UriEncode(std::string_view s, bool keep_slash);

// "20260101T000000Z" (X-Amz-Date) for `t`, UTC.
std::string AmzDate(TimePoint t);
// Parses "YYYYMMDDTHHMMSSZ". nullopt when malformed.
std::optional<TimePoint> ParseAmzDate(std::string_view s);
// Parses an RFC 1123 HTTP date ("Thu, 01 Jan 2026 00:00:00 GMT").
std::optional<TimePoint> ParseHttpDate(std::string_view s);

// The canonical URI of a request path: dot segments removed, then
// percent-encoded with '/' and '~' kept (so an already encoded "%20" is
// encoded again as "%2520", which is what AWS expects outside S3).
std::string CanonicalUri(std::string_view path);
// The canonical query: the pairs of `query` sorted by key, then value, as
// sent (no re-encoding), joined with '&'.
std::string CanonicalQuery(std::string_view query);
// "name:value\n" lines for each of `signed_headers` (lowercase, sorted),
// values trimmed with inner runs of spaces collapsed, repeated headers joined
// with ','. A signed header the request lacks gives "name:" (the signature
// will not match).
std::string CanonicalHeaders(const Request& request,
                             const std::vector<std::string>& signed_headers);
// The six-line canonical request. `signed_headers` lowercase and sorted;
// `payload_hash` is Sha256Hex(body) for SWF.
std::string CanonicalRequest(const Request& request, const std::vector<std::string>& signed_headers,
                             std::string_view payload_hash);
// "YYYYMMDD/region/service/aws4_request".
std::string CredentialScope(std::string_view date, std::string_view region,
                            std::string_view service);
// AWS4-HMAC-SHA256 \n amz_date \n scope \n hex(sha256(canonical_request)).
std::string StringToSign(std::string_view amz_date, std::string_view scope,
                         std::string_view canonical_request);
// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service),
// "aws4_request"). Raw bytes.
std::string SigningKey(std::string_view secret, std::string_view date, std::string_view region,
                       std::string_view service);
// hex(HMAC(signing_key, string_to_sign)).
std::string Signature(std::string_view signing_key, std::string_view string_to_sign);

// --- signing -----------------------------------------------------------------

struct SignOptions {
  std::string region = "us-east-1";
  std::string service = "swf";
  TimePoint now;
  // Lowercase names of headers never signed (botocore's list).
  std::vector<std::string> unsigned_headers = {"expect", "user-agent", "x-amzn-trace-id",
                                               "authorization"};
};

// Signs `request` in place the way botocore does: sets X-Amz-Date (and
// X-Amz-Security-Token when the credentials have a session token), adds a
// Host header when there is none (callers must set it to the host[:port] they
// connect to), signs every header not in `unsigned_headers` plus the body
// hash, and sets the Authorization header. Returns the signature (hex).
std::string Sign(Request& request, const Credentials& credentials, const SignOptions& options);

// --- verifying ---------------------------------------------------------------

// The parts of an "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=...,
// Signature=..." header.
struct Authorization {
  std::string access_key_id;
  std::string date;  // YYYYMMDD of the credential scope
  std::string region;
  std::string service;
  std::string terminator;                   // "aws4_request"
  std::vector<std::string> signed_headers;  // as listed (lowercase expected)
  std::string signature;
};

// The longest Authorization header accepted (a real one is ~200-600 bytes:
// the signed headers' names make up most of it), and the most signed headers.
inline constexpr std::size_t kMaxAuthorizationBytes = 4096;
inline constexpr std::size_t kMaxSignedHeaders = 64;

// Parses an Authorization header value. Errors: kIncompleteSignature (another
// scheme, missing Credential / SignedHeaders / Signature, malformed
// credential, over kMaxAuthorizationBytes or kMaxSignedHeaders).
Result<Authorization> ParseAuthorization(std::string_view header);

// The access key id of an Authorization header, or "" when there is none
// (for logging when signatures are not checked).
std::string AccessKeyIdOf(std::string_view authorization_header);

struct VerifyOptions {
  std::string service = "swf";
  // When set, the credential scope's region must equal it; otherwise any
  // region is accepted (the signature covers the region the client used).
  std::optional<std::string> region;
  TimePoint now;
  // Allowed difference between the request's date and `now` (AWS: 15 min).
  Duration max_skew = std::chrono::minutes(15);
};

// The secret for an access key id, or nullopt when the key is unknown.
using SecretLookup = std::function<std::optional<std::string>(std::string_view access_key_id)>;

// Verifies `request`'s SigV4 signature. On success returns the access key
// id. Faults, with AWS's messages:
// - no Authorization header: kMissingAuthenticationToken;
// - Authorization missing a part, no X-Amz-Date/Date header, a malformed
//   date: kIncompleteSignature;
// - an unknown access key id: kUnrecognizedClient;
// - date outside `max_skew`: kRequestExpired ("Signature expired: ...");
// - a scope naming another service/region/date, 'host' not signed, an
//   X-Amz-Content-SHA256 header that is not the body's hash, or a signature
//   that does not match: kInvalidSignature (the message shows the canonical
//   request and string to sign, as AWS does).
Result<std::string> Verify(const Request& request, const SecretLookup& secrets,
                           const VerifyOptions& options);

}  // namespace garcon::sigv4
