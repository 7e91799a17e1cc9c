#include "protocol/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <ctime>

#include "base/secure_compare.h"
#include "base/status_macros.h"

namespace garcon::sigv4 {
namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// botocore's ' '.join(value.split()): trims and collapses whitespace runs.
std::string TrimAll(std::string_view s) {
  std::string out;
  bool pending_space = false;
  for (char c : s) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += c;
  }
  return out;
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (true) {
    std::size_t pos = s.find(sep, start);
    if (pos == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

// RFC 3986 section 5.2.4, as botocore's normalize_url_path (posixpath-like:
// empty segments collapse, a trailing slash is kept).
std::string RemoveDotSegments(std::string_view path) {
  if (path.empty()) return "/";
  std::vector<std::string_view> out;
  for (std::string_view seg : Split(path, '/')) {
    if (seg.empty() || seg == ".") continue;
    if (seg == "..") {
      if (!out.empty()) out.pop_back();
      continue;
    }
    out.push_back(seg);
  }
  std::string result = "/";
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (i > 0) result += '/';
    result += out[i];
  }
  if (path.back() == '/' && result != "/") result += '/';
  return result;
}

std::optional<TimePoint> FromUtc(int year, int month, int day, int hour, int minute, int second) {
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60 ||
      year < 1970 || year > 2200) {
    // Past 2200 is no real request's date, and the clock's nanoseconds end
    // in 2262: a later date would overflow when converted.
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  const std::time_t t = timegm(&tm);
  if (t == static_cast<std::time_t>(-1)) return std::nullopt;
  return std::chrono::system_clock::from_time_t(t);
}

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int ToInt(std::string_view s) {
  int v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v;
}

std::string ExpectedSignatureMessage(const std::string& canonical_request,
                                     const std::string& string_to_sign) {
  return "The request signature we calculated does not match the signature you "
         "provided. Check your AWS Secret Access Key and signing method. Consult the "
         "service documentation for details.\n\nThe Canonical String for this request "
         "should have been\n'" +
         canonical_request + "'\n\nThe String-to-Sign should have been\n'" + string_to_sign + "'\n";
}

}  // namespace

// --- Request -------------------------------------------------------------------

std::optional<std::string> Request::Header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (EqualsIgnoreCase(n, name)) return v;
  }
  return std::nullopt;
}

void Request::SetHeader(std::string_view name, std::string value) {
  std::erase_if(headers, [&](const auto& h) { return EqualsIgnoreCase(h.first, name); });
  headers.emplace_back(std::string(name), std::move(value));
}

// --- building blocks -------------------------------------------------------------

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 0xf];
  }
  return out;
}

std::string Sha256Hex(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md.data(), &len, EVP_sha256(), nullptr);
  return Hex(std::string_view(reinterpret_cast<const char*>(md.data()), len));
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), md.data(), &len);
  return std::string(reinterpret_cast<const char*>(md.data()), len);
}

std::string UriEncode(std::string_view s, bool keep_slash) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' ||
        (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kDigits[c >> 4];
      out += kDigits[c & 0xf];
    }
  }
  return out;
}

std::string AmzDate(TimePoint t) {
  const std::time_t tt =
      std::chrono::system_clock::to_time_t(std::chrono::time_point_cast<std::chrono::seconds>(t));
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::optional<TimePoint> ParseAmzDate(std::string_view s) {
  if (s.size() != 16 || s[8] != 'T' || s[15] != 'Z' || !AllDigits(s.substr(0, 8)) ||
      !AllDigits(s.substr(9, 6))) {
    return std::nullopt;
  }
  return FromUtc(ToInt(s.substr(0, 4)), ToInt(s.substr(4, 2)), ToInt(s.substr(6, 2)),
                 ToInt(s.substr(9, 2)), ToInt(s.substr(11, 2)), ToInt(s.substr(13, 2)));
}

std::optional<TimePoint> ParseHttpDate(std::string_view s) {
  // "Thu, 01 Jan 2026 00:00:00 GMT"
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  s = Trim(s);
  if (s.size() != 29 || s.substr(3, 2) != ", " || s.substr(25) != " GMT") {
    return std::nullopt;
  }
  std::string_view day = s.substr(5, 2), mon = s.substr(8, 3), year = s.substr(12, 4),
                   hh = s.substr(17, 2), mm = s.substr(20, 2), ss = s.substr(23, 2);
  if (!AllDigits(day) || !AllDigits(year) || !AllDigits(hh) || !AllDigits(mm) || !AllDigits(ss) ||
      s[19] != ':' || s[22] != ':') {
    return std::nullopt;
  }
  auto it = std::find(kMonths.begin(), kMonths.end(), mon);
  if (it == kMonths.end()) return std::nullopt;
  return FromUtc(ToInt(year), static_cast<int>(it - kMonths.begin()) + 1, ToInt(day), ToInt(hh),
                 ToInt(mm), ToInt(ss));
}

std::string CanonicalUri(std::string_view path) {
  std::string normalized = RemoveDotSegments(path);
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : normalized) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '/') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kDigits[c >> 4];
      out += kDigits[c & 0xf];
    }
  }
  return out;
}

std::string CanonicalQuery(std::string_view query) {
  if (query.empty()) return "";
  std::vector<std::pair<std::string_view, std::string_view>> pairs;
  for (std::string_view pair : Split(query, '&')) {
    const std::size_t eq = pair.find('=');
    if (eq == std::string_view::npos) {
      pairs.emplace_back(pair, std::string_view());
    } else {
      pairs.emplace_back(pair.substr(0, eq), pair.substr(eq + 1));
    }
  }
  std::sort(pairs.begin(), pairs.end());
  std::string out;
  for (const auto& [k, v] : pairs) {
    if (!out.empty()) out += '&';
    out += k;
    out += '=';
    out += v;
  }
  return out;
}

std::string CanonicalHeaders(const Request& request,
                             const std::vector<std::string>& signed_headers) {
  std::string out;
  for (const std::string& name : signed_headers) {
    std::string value;
    bool first = true;
    for (const auto& [n, v] : request.headers) {
      if (!EqualsIgnoreCase(n, name)) continue;
      if (!first) value += ',';
      value += TrimAll(v);
      first = false;
    }
    out += name;
    out += ':';
    out += value;
    out += '\n';
  }
  return out;
}

std::string CanonicalRequest(const Request& request, const std::vector<std::string>& signed_headers,
                             std::string_view payload_hash) {
  std::string signed_list;
  for (const std::string& h : signed_headers) {
    if (!signed_list.empty()) signed_list += ';';
    signed_list += h;
  }
  std::string out;
  for (char c : request.method) {
    out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  out += '\n';
  out += CanonicalUri(request.path);
  out += '\n';
  out += CanonicalQuery(request.query);
  out += '\n';
  out += CanonicalHeaders(request, signed_headers);
  out += '\n';
  out += signed_list;
  out += '\n';
  out += payload_hash;
  return out;
}

std::string CredentialScope(std::string_view date, std::string_view region,
                            std::string_view service) {
  std::string out(date);
  out += '/';
  out += region;
  out += '/';
  out += service;
  out += "/aws4_request";
  return out;
}

std::string StringToSign(std::string_view amz_date, std::string_view scope,
                         std::string_view canonical_request) {
  std::string out(kAlgorithm);
  out += '\n';
  out += amz_date;
  out += '\n';
  out += scope;
  out += '\n';
  out += Sha256Hex(canonical_request);
  return out;
}

std::string SigningKey(std::string_view secret, std::string_view date, std::string_view region,
                       std::string_view service) {
  std::string key = "AWS4";
  key += secret;
  std::string k_date = HmacSha256(key, date);
  std::string k_region = HmacSha256(k_date, region);
  std::string k_service = HmacSha256(k_region, service);
  return HmacSha256(k_service, "aws4_request");
}

std::string Signature(std::string_view signing_key, std::string_view string_to_sign) {
  return Hex(HmacSha256(signing_key, string_to_sign));
}

// --- signing -----------------------------------------------------------------------

std::string Sign(Request& request, const Credentials& credentials, const SignOptions& options) {
  const std::string amz_date = AmzDate(options.now);
  const std::string date = amz_date.substr(0, 8);
  std::erase_if(request.headers,
                [](const auto& h) { return EqualsIgnoreCase(h.first, "authorization"); });
  request.SetHeader("X-Amz-Date", amz_date);
  if (!credentials.session_token.empty()) {
    request.SetHeader("X-Amz-Security-Token", credentials.session_token);
  }
  std::vector<std::string> names;
  for (const auto& [n, v] : request.headers) {
    std::string lower = Lower(Trim(n));
    if (std::find(options.unsigned_headers.begin(), options.unsigned_headers.end(), lower) !=
        options.unsigned_headers.end()) {
      continue;
    }
    names.push_back(std::move(lower));
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());

  const std::string canonical = CanonicalRequest(request, names, Sha256Hex(request.body));
  const std::string scope = CredentialScope(date, options.region, options.service);
  const std::string sts = StringToSign(amz_date, scope, canonical);
  const std::string signature = Signature(
      SigningKey(credentials.secret_access_key, date, options.region, options.service), sts);

  std::string signed_list;
  for (const std::string& h : names) {
    if (!signed_list.empty()) signed_list += ';';
    signed_list += h;
  }
  request.headers.emplace_back(
      "Authorization", std::string(kAlgorithm) + " Credential=" + credentials.access_key_id + "/" +
                           scope + ", SignedHeaders=" + signed_list + ", Signature=" + signature);
  return signature;
}

// --- verifying ----------------------------------------------------------------------

Result<Authorization> ParseAuthorization(std::string_view header) {
  header = Trim(header);
  if (header.size() > kMaxAuthorizationBytes) {
    return Status(Fault::kIncompleteSignature,
                  "Authorization header of " + std::to_string(header.size()) +
                      " bytes exceeds the limit of " + std::to_string(kMaxAuthorizationBytes) +
                      " bytes");
  }
  const std::size_t space = header.find(' ');
  const std::string_view scheme = header.substr(0, space);
  if (scheme != kAlgorithm) {
    return Status(Fault::kIncompleteSignature,
                  "Authorization header requires 'Credential' parameter. Authorization "
                  "header requires 'Signature' parameter. Authorization header requires "
                  "'SignedHeaders' parameter. Authorization=" +
                      std::string(header));
  }
  std::string_view rest = space == std::string_view::npos ? "" : header.substr(space + 1);
  std::optional<std::string_view> credential, signed_headers, signature;
  for (std::string_view part : Split(rest, ',')) {
    part = Trim(part);
    const std::size_t eq = part.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view key = Trim(part.substr(0, eq));
    std::string_view value = Trim(part.substr(eq + 1));
    if (key == "Credential") credential = value;
    if (key == "SignedHeaders") signed_headers = value;
    if (key == "Signature") signature = value;
  }
  std::string missing;
  if (!credential) missing += "Authorization header requires 'Credential' parameter. ";
  if (!signature) missing += "Authorization header requires 'Signature' parameter. ";
  if (!signed_headers) missing += "Authorization header requires 'SignedHeaders' parameter. ";
  if (!missing.empty()) {
    return Status(Fault::kIncompleteSignature, missing + "Authorization=" + std::string(header));
  }
  std::vector<std::string_view> scope = Split(*credential, '/');
  if (scope.size() != 5 || scope[0].empty()) {
    return Status(Fault::kIncompleteSignature,
                  "Credential must have exactly 5 slash-delimited elements, e.g. "
                  "keyid/date/region/service/term, got '" +
                      std::string(*credential) + "'");
  }
  Authorization auth;
  auth.access_key_id = std::string(scope[0]);
  auth.date = std::string(scope[1]);
  auth.region = std::string(scope[2]);
  auth.service = std::string(scope[3]);
  auth.terminator = std::string(scope[4]);
  for (std::string_view h : Split(*signed_headers, ';')) {
    if (!h.empty()) auth.signed_headers.emplace_back(h);
  }
  if (auth.signed_headers.size() > kMaxSignedHeaders) {
    return Status(Fault::kIncompleteSignature,
                  "SignedHeaders lists " + std::to_string(auth.signed_headers.size()) +
                      " headers; at most " + std::to_string(kMaxSignedHeaders) + " are accepted");
  }
  auth.signature = std::string(*signature);
  return auth;
}

std::string AccessKeyIdOf(std::string_view authorization_header) {
  const std::size_t pos = authorization_header.find("Credential=");
  if (pos == std::string_view::npos) return "";
  std::string_view rest = authorization_header.substr(pos + 11);
  const std::size_t end = rest.find_first_of("/, ");
  return std::string(rest.substr(0, end));
}

Result<std::string> Verify(const Request& request, const SecretLookup& secrets,
                           const VerifyOptions& options) {
  const std::optional<std::string> header = request.Header("authorization");
  if (!header || Trim(*header).empty()) {
    return Status(Fault::kMissingAuthenticationToken, "Request is missing Authentication Token");
  }
  ASSIGN_OR_RETURN(Authorization auth, ParseAuthorization(*header));

  // The request's date: X-Amz-Date, else Date.
  std::string amz_date;
  std::optional<TimePoint> when;
  if (auto x = request.Header("x-amz-date")) {
    amz_date = Trim(*x);
    when = ParseAmzDate(amz_date);
  } else if (auto d = request.Header("date")) {
    when = ParseHttpDate(*d);
    if (when) amz_date = AmzDate(*when);
  } else {
    return Status(Fault::kIncompleteSignature,
                  "Authorization header requires existence of either a 'X-Amz-Date' or a "
                  "'Date' header. Authorization=" +
                      std::string(Trim(*header)));
  }
  if (!when) {
    return Status(Fault::kIncompleteSignature, "Date must be in ISO-8601 'basic format'. Got '" +
                                                   amz_date +
                                                   "'. See http://en.wikipedia.org/wiki/ISO_8601");
  }

  const std::optional<std::string> secret = secrets(auth.access_key_id);
  if (!secret) {
    return Status(Fault::kUnrecognizedClient,
                  "The security token included in the request is invalid.");
  }

  const std::string now_text = AmzDate(options.now);
  const long skew_minutes =
      static_cast<long>(std::chrono::duration_cast<std::chrono::minutes>(options.max_skew).count());
  if (*when < options.now - options.max_skew) {
    return Status(Fault::kRequestExpired,
                  "Signature expired: " + amz_date + " is now earlier than " +
                      AmzDate(options.now - options.max_skew) + " (" + now_text + " - " +
                      std::to_string(skew_minutes) + " min.)");
  }
  if (*when > options.now + options.max_skew) {
    return Status(Fault::kRequestExpired,
                  "Signature not yet current: " + amz_date + " is still later than " +
                      AmzDate(options.now + options.max_skew) + " (" + now_text + " + " +
                      std::to_string(skew_minutes) + " min.)");
  }

  if (auth.terminator != "aws4_request") {
    return Status(Fault::kInvalidSignature,
                  "Credential should be scoped with a valid terminator: 'aws4_request', not '" +
                      auth.terminator + "'. ");
  }
  if (auth.service != options.service) {
    return Status(Fault::kInvalidSignature,
                  "Credential should be scoped to correct service: '" + options.service + "'. ");
  }
  if (auth.region.empty() || (options.region && auth.region != *options.region)) {
    return Status(Fault::kInvalidSignature, "Credential should be scoped to a valid region. ");
  }
  if (auth.date != amz_date.substr(0, 8)) {
    return Status(Fault::kInvalidSignature,
                  "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of "
                  "date from HTTP: '" +
                      auth.date + "' != '" + amz_date.substr(0, 8) + "', from '" + amz_date + "'.");
  }
  if (std::find(auth.signed_headers.begin(), auth.signed_headers.end(), "host") ==
      auth.signed_headers.end()) {
    return Status(Fault::kInvalidSignature,
                  "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
  }

  const std::string payload_hash = Sha256Hex(request.body);
  if (auto declared = request.Header("x-amz-content-sha256")) {
    if (Trim(*declared) != payload_hash) {
      return Status(Fault::kInvalidSignature,
                    "The provided 'x-amz-content-sha256' header does not match what was "
                    "computed.");
    }
  }
  const std::string canonical = CanonicalRequest(request, auth.signed_headers, payload_hash);
  const std::string sts =
      StringToSign(amz_date, CredentialScope(auth.date, auth.region, auth.service), canonical);
  const std::string expected =
      Signature(SigningKey(*secret, auth.date, auth.region, auth.service), sts);
  if (!SecretsEqual(expected, auth.signature)) {
    return Status(Fault::kInvalidSignature, ExpectedSignatureMessage(canonical, sts));
  }
  return auth.access_key_id;
}

}  // namespace garcon::sigv4
