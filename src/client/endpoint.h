// An endpoint URL taken apart: what libcurl connects to, and the Host header
// and path SigV4 signs (botocore's rendering: host lowercased, the port only
// when it is not the scheme's default, IPv6 addresses in brackets).
#pragma once

#include <string>
#include <string_view>

#include "garcon/status.h"

namespace garcon::client {

struct Endpoint {
  std::string scheme;  // "http" or "https"
  std::string host;    // lowercase; an IPv6 address without brackets
  int port = 0;        // explicit, else the scheme's default
  bool explicit_port = false;
  std::string path = "/";  // as given (percent-encoded), "/" when none

  // host[:port] as sent in the Host header and signed.
  std::string HostHeader() const;
  // scheme://HostHeader()path: the URL requested.
  std::string Url() const;
};

// Parses "scheme://host[:port][/path]". Errors (kValidation): another
// scheme, no host, a bad port, user info, a query or a fragment.
Result<Endpoint> ParseEndpoint(std::string_view url);

}  // namespace garcon::client
