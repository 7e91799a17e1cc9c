#include "flow/instance_id.h"

#include <openssl/evp.h>

#include <array>
#include <cstdio>
#include <map>

namespace garcon::flow {
namespace {

std::string PythonRepr(const Json& value);

std::string QuoteRepr(const std::string& s) {
  // Python prefers single quotes unless the string contains one and no
  // double quote.
  const bool has_single = s.find('\'') != std::string::npos;
  const bool has_double = s.find('"') != std::string::npos;
  const char quote = (has_single && !has_double) ? '"' : '\'';
  std::string out(1, quote);
  for (char c : s) {
    if (c == quote || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else {
      out += c;
    }
  }
  out += quote;
  return out;
}

std::string PythonRepr(const Json& value) {
  if (value.is_string()) return QuoteRepr(value.get<std::string>());
  return PythonStr(value);
}

}  // namespace

std::string PythonStr(const Json& value) {
  switch (value.type()) {
    case Json::value_t::null:
      return "None";
    case Json::value_t::boolean:
      return value.get<bool>() ? "True" : "False";
    case Json::value_t::string:
      return value.get<std::string>();
    case Json::value_t::array: {
      std::string out = "[";
      for (std::size_t i = 0; i < value.size(); ++i) {
        if (i) out += ", ";
        out += PythonRepr(value[i]);
      }
      return out + "]";
    }
    case Json::value_t::object: {
      // Python dicts keep insertion order; JSON objects here are sorted.
      std::string out = "{";
      bool first = true;
      for (const auto& [k, v] : value.items()) {
        if (!first) out += ", ";
        first = false;
        out += QuoteRepr(k) + ": " + PythonRepr(v);
      }
      return out + "}";
    }
    case Json::value_t::number_float: {
      // Python writes integral floats as "1.0"; nlohmann does too.
      return value.dump();
    }
    default:
      return value.dump();
  }
}

std::string DictionaryKey(const Context& local_context) {
  std::map<std::string, const Json*> sorted;
  for (const auto& [k, v] : local_context.items()) sorted.emplace(k, &v);
  std::string text;
  for (const auto& [k, v] : sorted) {
    text += "'" + k + "':'" + PythonStr(*v) + "';";
  }
  // Fetched once: EVP_sha1() is looked up again at each digest otherwise,
  // which costs about as much as the digest of an instance's values.
  static const EVP_MD* const kSha1 = [] {
    const EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA1", nullptr);
    return fetched != nullptr ? fetched : EVP_sha1();
  }();
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  EVP_Digest(text.data(), text.size(), digest.data(), &length, kSha1, nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 15];
  }
  return hex;
}

}  // namespace garcon::flow
