// SigV4: parsing the Authorization header, AccessKeyIdOf, Verify with a
// fixed secret and clock, and the canonicalization building blocks, on
// fuzzed headers, body, path and query.
//
// Input (FuzzedDataProvider): a first byte picks the mode.
//   0: raw: a fuzzed Authorization header (as is, or assembled from fuzzed
//      Credential / SignedHeaders / Signature parts around a valid scope),
//      fuzzed headers, date, path, query and body, verified. Any answer.
//   1: round trip: a request made of fuzzed but HTTP-valid parts is signed
//      with the known key at now + a fuzzed skew, then verified at now: it
//      must verify iff the skew is within 15 minutes, and must not verify
//      once a body byte changed. A violation aborts.
//   2: building blocks on fuzzed strings (dates, URI, query).
#include <fuzzer/FuzzedDataProvider.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "fuzz_common.h"
#include "protocol/sigv4.h"

namespace {

namespace sigv4 = garcon::sigv4;
using garcon::fuzz::Die;

constexpr const char* kKeyId = "AKIDFUZZ";
constexpr const char* kSecret = "fuzz-secret-key";

// 2026-01-01T12:00:00Z.
garcon::TimePoint Now() { return garcon::FromEpochSeconds(1767268800.0); }

std::optional<std::string> Lookup(std::string_view key) {
  if (key == kKeyId) return std::string(kSecret);
  if (key == "EMPTY") return std::string();
  return std::nullopt;
}

// Keeps only the bytes `ok` accepts (a fuzzed string made HTTP-valid).
template <typename Pred>
std::string Keep(std::string s, Pred ok) {
  std::erase_if(s, [&](char c) { return !ok(static_cast<unsigned char>(c)); });
  return s;
}

bool IsTchar(unsigned char c) {
  return std::isalnum(c) || std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) !=
                                std::string_view::npos;
}
bool IsFieldByte(unsigned char c) { return c == '\t' || (c >= 0x20 && c != 0x7f); }
bool IsTargetByte(unsigned char c) { return c > 0x20 && c < 0x7f && c != '#' && c != '?'; }
bool IsQueryByte(unsigned char c) { return c > 0x20 && c < 0x7f && c != '#'; }

void Raw(FuzzedDataProvider& fdp) {
  sigv4::Request request;
  request.method = fdp.ConsumeBool() ? "POST" : fdp.ConsumeRandomLengthString(8);
  request.path = fdp.ConsumeRandomLengthString(64);
  request.query = fdp.ConsumeRandomLengthString(64);
  std::string authorization;
  if (fdp.ConsumeBool()) {
    authorization = fdp.ConsumeRandomLengthString(512);
  } else {
    const std::string key = fdp.ConsumeBool() ? kKeyId : fdp.ConsumeRandomLengthString(16);
    const std::string date = fdp.ConsumeBool() ? "20260101" : fdp.ConsumeRandomLengthString(10);
    const std::string region = fdp.ConsumeBool() ? "us-east-1" : fdp.ConsumeRandomLengthString(12);
    const std::string service = fdp.ConsumeBool() ? "swf" : fdp.ConsumeRandomLengthString(6);
    const std::string terminator =
        fdp.ConsumeBool() ? "aws4_request" : fdp.ConsumeRandomLengthString(14);
    const std::string signed_headers =
        fdp.ConsumeBool() ? "host;x-amz-date" : fdp.ConsumeRandomLengthString(64);
    const std::string signature = fdp.ConsumeRandomLengthString(80);
    const std::string sep = fdp.ConsumeBool() ? ", " : fdp.ConsumeRandomLengthString(3);
    authorization = std::string(sigv4::kAlgorithm) + " Credential=" + key + "/" + date + "/" +
                    region + "/" + service + "/" + terminator + sep +
                    "SignedHeaders=" + signed_headers + sep + "Signature=" + signature;
  }
  const int date_kind = fdp.ConsumeIntegralInRange(0, 3);
  if (date_kind == 0) request.headers.emplace_back("X-Amz-Date", "20260101T120000Z");
  if (date_kind == 1) request.headers.emplace_back("X-Amz-Date", fdp.ConsumeRandomLengthString(20));
  if (date_kind == 2) request.headers.emplace_back("Date", fdp.ConsumeRandomLengthString(40));
  request.headers.emplace_back("Host", "localhost:7800");
  const int n = fdp.ConsumeIntegralInRange(0, 6);
  for (int i = 0; i < n; ++i) {
    std::string name = fdp.ConsumeRandomLengthString(24);
    std::string value = fdp.ConsumeRandomLengthString(64);
    request.headers.emplace_back(std::move(name), std::move(value));
  }
  request.headers.emplace_back("Authorization", authorization);
  request.body = fdp.ConsumeRemainingBytesAsString();

  (void)sigv4::ParseAuthorization(authorization);
  (void)sigv4::AccessKeyIdOf(authorization);
  sigv4::VerifyOptions options;
  options.now = Now();
  (void)sigv4::Verify(request, Lookup, options);
  options.region = "us-east-1";
  (void)sigv4::Verify(request, Lookup, options);
}

void RoundTrip(FuzzedDataProvider& fdp) {
  sigv4::Request request;
  const int method = fdp.ConsumeIntegralInRange(0, 3);
  request.method = method == 0   ? "POST"
                   : method == 1 ? "GET"
                   : method == 2 ? "post"
                                 : Keep(fdp.ConsumeRandomLengthString(8), IsTchar);
  if (request.method.empty()) request.method = "POST";
  request.path = "/" + Keep(fdp.ConsumeRandomLengthString(48), IsTargetByte);
  request.query = Keep(fdp.ConsumeRandomLengthString(48), IsQueryByte);
  request.headers.emplace_back("Host", "127.0.0.1:" + std::to_string(fdp.ConsumeIntegral<std::uint16_t>()));
  const int n = fdp.ConsumeIntegralInRange(0, 12);
  for (int i = 0; i < n; ++i) {
    std::string name = Keep(fdp.ConsumeRandomLengthString(24), IsTchar);
    std::string value = Keep(fdp.ConsumeRandomLengthString(64), IsFieldByte);
    if (name.empty()) continue;
    std::string lower = name;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    // A declared body hash that is wrong fails by design.
    if (lower == "x-amz-content-sha256") continue;
    request.headers.emplace_back(std::move(name), std::move(value));
  }
  request.body = fdp.ConsumeRandomLengthString(256);
  const int skew_seconds = fdp.ConsumeIntegralInRange(-1800, 1800);
  const bool flip_body = fdp.ConsumeBool() && !request.body.empty();
  const std::size_t flip_at = fdp.ConsumeIntegral<std::size_t>();

  sigv4::Credentials credentials{kKeyId, kSecret, ""};
  sigv4::SignOptions sign;
  sign.now = Now() + std::chrono::seconds(skew_seconds);
  (void)sigv4::Sign(request, credentials, sign);

  sigv4::VerifyOptions verify;
  verify.now = Now();
  verify.region = "us-east-1";
  garcon::Result<std::string> verified = sigv4::Verify(request, Lookup, verify);
  const bool in_skew = skew_seconds >= -15 * 60 && skew_seconds <= 15 * 60;
  if (in_skew && !verified.ok()) {
    Die("a request signed by Sign does not Verify: " + verified.status().ToString());
  }
  if (in_skew && *verified != kKeyId) Die("Verify returned another key id: " + *verified);
  if (!in_skew && verified.ok()) {
    Die("a request signed " + std::to_string(skew_seconds) + " s off verified");
  }
  if (flip_body) {
    request.body[flip_at % request.body.size()] ^= 0x01;
    if (sigv4::Verify(request, Lookup, verify).ok()) Die("a changed body still verifies");
  }
}

void Blocks(FuzzedDataProvider& fdp) {
  const std::string a = fdp.ConsumeRandomLengthString(64);
  const std::string b = fdp.ConsumeRandomLengthString(64);
  const std::string c = fdp.ConsumeRemainingBytesAsString();
  if (auto t = sigv4::ParseAmzDate(a)) (void)sigv4::AmzDate(*t);
  if (auto t = sigv4::ParseHttpDate(b)) (void)sigv4::AmzDate(*t);
  (void)sigv4::CanonicalUri(c);
  (void)sigv4::CanonicalQuery(c);
  (void)sigv4::UriEncode(c, true);
  (void)sigv4::UriEncode(c, false);
  (void)sigv4::ParseAuthorization(c);
  (void)sigv4::AccessKeyIdOf(c);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider fdp(data, size);
  switch (fdp.ConsumeIntegralInRange(0, 2)) {
    case 0: Raw(fdp); break;
    case 1: RoundTrip(fdp); break;
    default: Blocks(fdp); break;
  }
  return 0;
}
