#include "client/endpoint.h"

#include <charconv>

namespace garcon::client {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

Status Invalid(std::string_view url, std::string_view why) {
  return ValidationError("invalid endpoint '" + std::string(url) + "': " + std::string(why));
}

}  // namespace

std::string Endpoint::HostHeader() const {
  std::string out = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  const int default_port = scheme == "https" ? 443 : 80;
  if (port != default_port) out += ":" + std::to_string(port);
  return out;
}

std::string Endpoint::Url() const { return scheme + "://" + HostHeader() + path; }

Result<Endpoint> ParseEndpoint(std::string_view url) {
  Endpoint e;
  std::size_t sep = url.find("://");
  if (sep == std::string_view::npos)
    return Invalid(url, "expected http://HOST[:PORT] or https://...");
  e.scheme = Lower(url.substr(0, sep));
  if (e.scheme != "http" && e.scheme != "https") {
    return Invalid(url, "the scheme must be http or https");
  }
  std::string_view rest = url.substr(sep + 3);
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return Invalid(url, "a query or fragment is not allowed");
  }
  std::size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) e.path = std::string(rest.substr(slash));
  if (authority.find('@') != std::string_view::npos) {
    return Invalid(url, "user info is not allowed (credentials are not sent in URLs)");
  }
  std::string_view host = authority;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return Invalid(url, "unclosed '[' in the host");
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return Invalid(url, "unexpected text after the IPv6 address");
      port = after.substr(1);
      e.explicit_port = true;
    }
  } else if (std::size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    e.explicit_port = true;
  }
  if (host.empty()) return Invalid(url, "no host");
  for (char c : host) {
    if (static_cast<unsigned char>(c) <= ' ' || c == '%' || c == '\\' || c == '"') {
      return Invalid(url, "the host has a character hosts do not have");
    }
  }
  e.host = Lower(host);
  e.port = e.scheme == "https" ? 443 : 80;
  if (e.explicit_port) {
    int value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value <= 0 ||
        value > 65535) {
      return Invalid(url, "bad port");
    }
    e.port = value;
  }
  return e;
}

}  // namespace garcon::client
