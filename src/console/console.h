// The web console served by `garcon server` at /console: hand-written HTML,
// CSS and JavaScript (assets/) compiled into the binary. The console is a
// client of SWF's JSON protocol (POST /), as any other client.
#pragma once

#include <cstddef>
#include <string_view>

namespace garcon::console {

struct Asset {
  std::string_view content_type;
  std::string_view etag;  // strong, quoted: "\"0123abcd...\""
  std::string_view body;
};

// The asset served at an HTTP path (no query): "/console" and "/console/"
// are the page, "/console/NAME" a file of assets/. nullptr for any other.
const Asset* Find(std::string_view path);

// The Content-Security-Policy sent with every asset: nothing but this
// origin (no remote script, style, image, font or connection; no frames).
inline constexpr std::string_view kContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

// One file of assets/ as the build embedded it (console_assets.cc, made by
// embed.cmake); kEmbedded ends with an entry whose name is nullptr.
struct EmbeddedAsset {
  const char* name;
  const char* content_type;
  const char* etag;
  const unsigned char* bytes;
  std::size_t size;
};
extern const EmbeddedAsset kEmbedded[];

}  // namespace garcon::console
