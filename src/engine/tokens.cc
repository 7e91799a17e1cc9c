#include "engine/tokens.h"

#include <openssl/rand.h>
#include <pthread.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <charconv>
#include <random>
#include <stdexcept>
#include <vector>

namespace garcon::engine {
namespace {

constexpr std::string_view kAlphanumeric =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
// The same characters in ASCII order.
constexpr std::string_view kSortedAlphanumeric =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
constexpr std::string_view kBase64Url =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr std::string_view kPageTokenPrefix = "gp1.";

// Random bytes come from OpenSSL's generator a block at a time, kept per
// thread: one RAND_bytes call (which takes its locks and runs its DRBG) per
// dozens of ids and secrets rather than one each. Bytes are handed out once
// and wiped from the block as they go; a forked child drops the block it
// inherited (the fork generation changes), so it never repeats its parent's.
std::atomic<unsigned> g_fork_generation{0};

struct RandomPool {
  std::array<unsigned char, 1024> bytes{};
  std::size_t used = 1024;  // empty
  unsigned generation = 0;
};

void FillRandom(unsigned char* out, std::size_t n) {
  static const int registered = ::pthread_atfork(
      nullptr, nullptr, [] { g_fork_generation.fetch_add(1, std::memory_order_relaxed); });
  (void)registered;
  thread_local RandomPool pool;
  const unsigned generation = g_fork_generation.load(std::memory_order_relaxed);
  if (pool.generation != generation) {
    std::fill(pool.bytes.begin(), pool.bytes.end(), 0);
    pool.used = pool.bytes.size();
    pool.generation = generation;
  }
  while (n > 0) {
    if (pool.used == pool.bytes.size()) {
      if (RAND_bytes(pool.bytes.data(), static_cast<int>(pool.bytes.size())) != 1) {
        // OpenSSL's generator failing is exceptional; fall back to the OS source.
        std::random_device device;
        for (auto& b : pool.bytes) b = static_cast<unsigned char>(device());
      }
      pool.used = 0;
    }
    const std::size_t take = std::min(n, pool.bytes.size() - pool.used);
    unsigned char* from = pool.bytes.data() + pool.used;
    std::copy(from, from + take, out);
    std::fill(from, from + take, 0);
    pool.used += take;
    out += take;
    n -= take;
  }
}

// N random bytes (no allocation: ids and secrets are made on every call).
template <std::size_t N>
std::array<unsigned char, N> RandomBytes() {
  std::array<unsigned char, N> bytes;
  FillRandom(bytes.data(), N);
  return bytes;
}

// kBase64Url's characters by value: their index, or -1.
constexpr std::array<signed char, 256> Base64UrlIndex() {
  std::array<signed char, 256> index{};
  for (auto& i : index) i = -1;
  for (std::size_t i = 0; i < kBase64Url.size(); ++i) {
    index[static_cast<unsigned char>(kBase64Url[i])] = static_cast<signed char>(i);
  }
  return index;
}
constexpr std::array<signed char, 256> kBase64UrlIndex = Base64UrlIndex();

bool ParseEventId(std::string_view text, std::int64_t* out) {
  if (text.empty()) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && ptr == text.data() + text.size() && *out >= 0;
}

}  // namespace

std::string NewRunId() {
  // The first 10 characters are a number that grows with each run this
  // process starts (the wall clock's microseconds, at least the previous
  // one's plus one), in digits that sort as their characters do: rows a
  // store keys by run id (a run's row, parts and events) of runs started
  // together then sit together in its indexes, so a commit writes a few
  // pages rather than one per run. The other 34 are random: 62^34 > 2^202,
  // rejection sampling keeps them uniform.
  static std::atomic<std::uint64_t> last{0};
  const auto micros = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(
          std::chrono::system_clock::now().time_since_epoch())
          .count());
  std::uint64_t seq = last.load();
  std::uint64_t next = 0;
  do {
    next = std::max(seq + 1, micros);
  } while (!last.compare_exchange_weak(seq, next));
  std::string id(10, '0');
  for (int i = 9; i >= 0; --i) {
    id[static_cast<std::size_t>(i)] = kSortedAlphanumeric[next % 62];
    next /= 62;
  }
  while (id.size() < 44) {
    for (unsigned char b : RandomBytes<64>()) {
      if (b < 248 && id.size() < 44) id.push_back(kAlphanumeric[b % 62]);
    }
  }
  return id;
}

std::string NewSecret() {
  static constexpr std::string_view kHex = "0123456789abcdef";
  std::string out;
  out.reserve(32);
  for (unsigned char b : RandomBytes<16>()) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

std::string Base64UrlEncode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  const auto at = [&](std::size_t k) { return static_cast<unsigned char>(bytes[k]); };
  for (; i + 3 <= bytes.size(); i += 3) {
    const unsigned v = (at(i) << 16) | (at(i + 1) << 8) | at(i + 2);
    out.push_back(kBase64Url[(v >> 18) & 63]);
    out.push_back(kBase64Url[(v >> 12) & 63]);
    out.push_back(kBase64Url[(v >> 6) & 63]);
    out.push_back(kBase64Url[v & 63]);
  }
  if (bytes.size() - i == 1) {
    const unsigned v = at(i) << 16;
    out.push_back(kBase64Url[(v >> 18) & 63]);
    out.push_back(kBase64Url[(v >> 12) & 63]);
  } else if (bytes.size() - i == 2) {
    const unsigned v = (at(i) << 16) | (at(i + 1) << 8);
    out.push_back(kBase64Url[(v >> 18) & 63]);
    out.push_back(kBase64Url[(v >> 12) & 63]);
    out.push_back(kBase64Url[(v >> 6) & 63]);
  }
  return out;
}

std::optional<std::string> Base64UrlDecode(std::string_view text) {
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  unsigned buffer = 0;
  int bits = 0;
  for (char c : text) {
    const int pos = kBase64UrlIndex[static_cast<unsigned char>(c)];
    if (pos < 0) return std::nullopt;
    buffer = (buffer << 6) | static_cast<unsigned>(pos);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xFF));
    }
  }
  // Leftover bits must be zero padding, so each text has one decoding.
  if ((buffer & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

std::string EncodeTaskToken(const TaskToken& token) {
  std::string plain;
  plain.reserve(token.run_id.size() + token.secret.size() + 48);
  plain.push_back(static_cast<char>(token.kind));
  plain += '|';
  plain += token.run_id;
  plain += '|';
  plain += std::to_string(token.scheduled_event_id);
  plain += '|';
  plain += std::to_string(token.started_event_id);
  plain += '|';
  plain += token.secret;
  return Base64UrlEncode(plain);
}

std::optional<TaskToken> DecodeTaskToken(std::string_view text) {
  auto plain = Base64UrlDecode(text);
  if (!plain) return std::nullopt;
  std::array<std::string_view, 5> parts;
  std::string_view rest = *plain;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const auto bar = rest.find('|');
    if (i + 1 == parts.size()) {
      if (bar != std::string_view::npos) return std::nullopt;
      parts[i] = rest;
    } else {
      if (bar == std::string_view::npos) return std::nullopt;
      parts[i] = rest.substr(0, bar);
      rest.remove_prefix(bar + 1);
    }
  }
  TaskToken token;
  if (parts[0] == "d") {
    token.kind = TaskKind::kDecision;
  } else if (parts[0] == "a") {
    token.kind = TaskKind::kActivity;
  } else {
    return std::nullopt;
  }
  token.run_id = std::string(parts[1]);
  if (token.run_id.empty() || parts[4].empty()) return std::nullopt;
  if (!ParseEventId(parts[2], &token.scheduled_event_id) ||
      !ParseEventId(parts[3], &token.started_event_id)) {
    return std::nullopt;
  }
  token.secret = std::string(parts[4]);
  return token;
}

std::string EncodePageToken(std::string_view kind, Json fields) {
  fields["k"] = kind;
  return std::string(kPageTokenPrefix) + Base64UrlEncode(fields.dump());
}

Result<Json> DecodePageToken(std::string_view text, std::string_view kind) {
  const Status corrupt = ValidationError(
      "Invalid nextPageToken: the token is corrupt or was "
      "issued for a different request");
  if (text.substr(0, kPageTokenPrefix.size()) != kPageTokenPrefix) return corrupt;
  auto plain = Base64UrlDecode(text.substr(kPageTokenPrefix.size()));
  if (!plain) return corrupt;
  Json fields = Json::parse(*plain, nullptr, /*allow_exceptions=*/false);
  if (!fields.is_object()) return corrupt;
  auto k = fields.find("k");
  if (k == fields.end() || !k->is_string() || k->get<std::string>() != kind) return corrupt;
  return fields;
}

}  // namespace garcon::engine
