#include "base/json_text.h"

#include <charconv>
#include <cmath>

namespace garcon {
namespace {

std::string DumpText(const Json& value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

void AppendString(std::string* out, const std::string& s) {
  for (char c : s) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte >= 0x7f || c == '"' || c == '\\') {
      // Escapes, and bytes past ASCII (checked as UTF-8): Json's way.
      out->append(DumpText(Json(s)));
      return;
    }
  }
  out->push_back('"');
  out->append(s);
  out->push_back('"');
}

template <typename T>
void AppendInteger(std::string* out, T value) {
  char buffer[24];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  (void)ec;
  out->append(buffer, end);
}

}  // namespace

void AppendJsonText(std::string* out, const Json& value) {
  switch (value.type()) {
    case Json::value_t::object: {
      out->push_back('{');
      bool first = true;
      for (const auto& [key, member] : value.get_ref<const Json::object_t&>()) {
        if (!first) out->push_back(',');
        first = false;
        AppendString(out, key);
        out->push_back(':');
        AppendJsonText(out, member);
      }
      out->push_back('}');
      return;
    }
    case Json::value_t::array: {
      out->push_back('[');
      bool first = true;
      for (const Json& element : value.get_ref<const Json::array_t&>()) {
        if (!first) out->push_back(',');
        first = false;
        AppendJsonText(out, element);
      }
      out->push_back(']');
      return;
    }
    case Json::value_t::string:
      AppendString(out, value.get_ref<const std::string&>());
      return;
    case Json::value_t::boolean:
      out->append(value.get<bool>() ? "true" : "false");
      return;
    case Json::value_t::null:
      out->append("null");
      return;
    case Json::value_t::number_integer:
      AppendInteger(out, value.get<std::int64_t>());
      return;
    case Json::value_t::number_unsigned:
      AppendInteger(out, value.get<std::uint64_t>());
      return;
    case Json::value_t::number_float: {
      const double d = value.get<double>();
      if (!std::isfinite(d)) {
        out->append("null");
        return;
      }
      // Json's own shortest round-trip form (Grisu2), as dump writes it.
      char buffer[64];
      char* end = nlohmann::detail::to_chars(buffer, buffer + sizeof buffer, d);
      out->append(buffer, end);
      return;
    }
    default:  // binary, discarded
      out->append(DumpText(value));
      return;
  }
}

std::string JsonText(const Json& value) {
  std::string out;
  out.reserve(256);
  AppendJsonText(&out, value);
  return out;
}

}  // namespace garcon
