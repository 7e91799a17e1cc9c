#include "console/console.h"

#include <unordered_map>

namespace garcon::console {
namespace {

// Path -> asset, built once from kEmbedded.
const std::unordered_map<std::string_view, Asset>& Assets() {
  static const std::unordered_map<std::string_view, Asset> assets = [] {
    std::unordered_map<std::string_view, Asset> map;
    for (const EmbeddedAsset* e = kEmbedded; e->name != nullptr; ++e) {
      // The bytes are characters; the cast only changes how they are named.
      Asset asset{e->content_type, e->etag,
                  std::string_view(reinterpret_cast<const char*>(e->bytes), e->size)};
      map.emplace(std::string_view(e->name), asset);
    }
    return map;
  }();
  return assets;
}

}  // namespace

const Asset* Find(std::string_view path) {
  constexpr std::string_view kPrefix = "/console";
  if (path.substr(0, kPrefix.size()) != kPrefix) return nullptr;
  std::string_view rest = path.substr(kPrefix.size());
  if (rest.empty() || rest == "/") rest = "/index.html";
  if (rest.front() != '/') return nullptr;
  rest.remove_prefix(1);
  const auto& assets = Assets();
  auto it = assets.find(rest);
  return it == assets.end() ? nullptr : &it->second;
}

}  // namespace garcon::console
