// Credentials, region and endpoint resolution (garcon/client.h), following
// botocore's precedence.
#include <unistd.h>

#include <cctype>
#include <utility>

#include "base/status_macros.h"
#include "client/endpoint.h"
#include "client/ini.h"
#include "garcon/client.h"

extern char** environ;  // NOLINT: POSIX

namespace garcon::client {
namespace {

// The value of `name`, or "" when unset or empty.
std::string Get(const Environment& env, std::string_view name) {
  auto it = env.find(name);
  return it == env.end() ? std::string() : it->second;
}

std::string ExpandHome(const std::string& path, const Environment& env) {
  if (path == "~" || path.starts_with("~/")) {
    std::string home = Get(env, "HOME");
    if (home.empty()) return path;
    return home + path.substr(1);
  }
  return path;
}

std::string FilePath(const Environment& env, std::string_view variable,
                     std::string_view default_name) {
  std::string path = Get(env, variable);
  if (!path.empty()) return ExpandHome(path, env);
  std::string home = Get(env, "HOME");
  if (home.empty()) return "";
  return home + "/.aws/" + std::string(default_name);
}

std::string CredentialsPath(const Environment& env) {
  return FilePath(env, "AWS_SHARED_CREDENTIALS_FILE", "credentials");
}

std::string ConfigPath(const Environment& env) {
  return FilePath(env, "AWS_CONFIG_FILE", "config");
}

using Section = std::map<std::string, std::string>;

// Splits a section name the way shlex.split does, for `[profile "a b"]`.
std::vector<std::string> SplitWords(std::string_view s) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  char quote = 0;
  for (char c : s) {
    if (quote != 0) {
      if (c == quote) {
        quote = 0;
      } else {
        word += c;
      }
    } else if (c == '"' || c == '\'') {
      quote = c;
      in_word = true;
    } else if (std::isspace(static_cast<unsigned char>(c)) != 0) {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
    } else {
      word += c;
      in_word = true;
    }
  }
  if (quote != 0) return {};  // unbalanced: shlex raises, botocore skips it
  if (in_word) words.push_back(std::move(word));
  return words;
}

// The profiles of a config file: [default] and [profile NAME]; a later
// section of the same profile wins, as in botocore.
std::map<std::string, Section> ConfigProfiles(const IniFile& config) {
  std::map<std::string, Section> out;
  for (const auto& [name, values] : config) {
    if (name == "default") {
      out["default"] = values;
    } else if (name.starts_with("profile")) {
      std::vector<std::string> words = SplitWords(name);
      if (words.size() == 2 && words[0] == "profile") out[words[1]] = values;
    }
  }
  // With both [default] and [profile default], botocore takes the one it
  // meets last in the file; sections here come sorted, so [profile default]
  // wins.
  return out;
}

const Section* FindConfigProfile(const std::optional<IniFile>& config, const std::string& profile,
                                 std::map<std::string, Section>& storage) {
  if (!config) return nullptr;
  storage = ConfigProfiles(*config);
  auto it = storage.find(profile);
  return it == storage.end() ? nullptr : &it->second;
}

std::string Value(const Section& s, const std::string& key) {
  auto it = s.find(key);
  return it == s.end() ? std::string() : it->second;
}

Status MissingCredentials(std::string m) {
  return {Fault::kMissingAuthenticationToken, std::move(m)};
}

// Credentials from a profile section; nullopt when it has none.
std::optional<Result<Credentials>> FromSection(const Section& s, const std::string& where) {
  Credentials c;
  c.access_key_id = Value(s, "aws_access_key_id");
  c.secret_access_key = Value(s, "aws_secret_access_key");
  c.session_token = Value(s, "aws_session_token");
  if (c.session_token.empty()) c.session_token = Value(s, "aws_security_token");
  if (c.access_key_id.empty() && c.secret_access_key.empty()) return std::nullopt;
  if (c.access_key_id.empty() || c.secret_access_key.empty()) {
    return Result<Credentials>(MissingCredentials(
        where + " has " +
        (c.access_key_id.empty() ? "aws_secret_access_key but no aws_access_key_id"
                                 : "aws_access_key_id but no aws_secret_access_key")));
  }
  return Result<Credentials>(std::move(c));
}

bool IsRegionName(std::string_view region) {
  if (region.empty() || region.size() > 64) return false;
  for (char c : region) {
    if (!(std::islower(static_cast<unsigned char>(c)) != 0 ||
          std::isdigit(static_cast<unsigned char>(c)) != 0 || c == '-')) {
      return false;
    }
  }
  return true;
}

}  // namespace

Environment ProcessEnvironment() {
  Environment env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    std::size_t eq = entry.find('=');
    if (eq == std::string_view::npos) continue;
    env.emplace(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
  }
  return env;
}

std::string ProfileName(std::string_view given, const Environment& env) {
  if (!given.empty()) return std::string(given);
  std::string from_env = Get(env, "AWS_PROFILE");
  if (!from_env.empty()) return from_env;
  return "default";
}

Result<Credentials> ResolveCredentials(const Credentials& given, std::string_view profile,
                                       const Environment& env) {
  if (!given.empty()) {
    if (given.access_key_id.empty() || given.secret_access_key.empty()) {
      return MissingCredentials(
          "explicit credentials need both an access key id and a secret access key");
    }
    return given;
  }
  if (profile.empty()) {
    Credentials c;
    c.access_key_id = Get(env, "AWS_ACCESS_KEY_ID");
    c.secret_access_key = Get(env, "AWS_SECRET_ACCESS_KEY");
    c.session_token = Get(env, "AWS_SESSION_TOKEN");
    if (c.session_token.empty()) c.session_token = Get(env, "AWS_SECURITY_TOKEN");
    if (!c.empty()) {
      if (c.access_key_id.empty()) {
        return MissingCredentials("AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not");
      }
      if (c.secret_access_key.empty()) {
        return MissingCredentials("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
      }
      return c;
    }
  }

  const std::string name = ProfileName(profile, env);
  const bool named = !profile.empty() || !Get(env, "AWS_PROFILE").empty();
  const std::string credentials_path = CredentialsPath(env);
  const std::string config_path = ConfigPath(env);
  bool profile_seen = false;

  std::optional<IniFile> credentials_file = ReadIniFile(credentials_path);
  if (credentials_file) {
    if (auto it = credentials_file->find(name); it != credentials_file->end()) {
      profile_seen = true;
      if (auto c = FromSection(it->second, "profile '" + name + "' of " + credentials_path)) {
        return *std::move(c);
      }
    }
  }
  std::map<std::string, Section> storage;
  if (const Section* s = FindConfigProfile(ReadIniFile(config_path), name, storage)) {
    profile_seen = true;
    if (auto c = FromSection(*s, "profile '" + name + "' of " + config_path)) {
      return *std::move(c);
    }
  }

  if (named && !profile_seen) {
    return MissingCredentials("the profile '" + name + "' is in neither " +
                              (credentials_path.empty() ? "~/.aws/credentials" : credentials_path) +
                              " nor " + (config_path.empty() ? "~/.aws/config" : config_path));
  }
  return MissingCredentials(
      "no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and "
      "AWS_SESSION_TOKEN for temporary credentials), or put aws_access_key_id and "
      "aws_secret_access_key in profile '" +
      name + "' of " + (credentials_path.empty() ? "~/.aws/credentials" : credentials_path));
}

std::string ResolveRegion(std::string_view given, std::string_view profile,
                          const Environment& env) {
  if (!given.empty()) return std::string(given);
  for (std::string_view var : {"AWS_REGION", "AWS_DEFAULT_REGION"}) {
    std::string value = Get(env, var);
    if (!value.empty()) return value;
  }
  std::map<std::string, Section> storage;
  if (const Section* s =
          FindConfigProfile(ReadIniFile(ConfigPath(env)), ProfileName(profile, env), storage)) {
    std::string region = Value(*s, "region");
    if (!region.empty()) return region;
  }
  return "us-east-1";
}

std::string ResolveEndpoint(std::string_view given, std::string_view region,
                            std::string_view profile, const Environment& env) {
  if (!given.empty()) return std::string(given);
  if (Get(env, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS") != "true") {
    for (std::string_view var : {"AWS_ENDPOINT_URL_SWF", "AWS_ENDPOINT_URL"}) {
      std::string value = Get(env, var);
      if (!value.empty()) return value;
    }
    std::map<std::string, Section> storage;
    if (const Section* s =
            FindConfigProfile(ReadIniFile(ConfigPath(env)), ProfileName(profile, env), storage)) {
      std::string url = Value(*s, "endpoint_url");
      if (!url.empty()) return url;
    }
  }
  std::string r = region.empty() ? "us-east-1" : std::string(region);
  return "https://swf." + r + (r.starts_with("cn-") ? ".amazonaws.com.cn" : ".amazonaws.com");
}

Result<ClientOptions> ResolveOptions(ClientOptions options, const Environment& env) {
  options.region = ResolveRegion(options.region, options.profile, env);
  if (!IsRegionName(options.region)) {
    return ValidationError("invalid region '" + options.region +
                           "': expected a region name such as us-east-1");
  }
  options.endpoint = ResolveEndpoint(options.endpoint, options.region, options.profile, env);
  if (Result<Endpoint> e = ParseEndpoint(options.endpoint); !e.ok()) return e.status();
  if (!options.anonymous) {
    ASSIGN_OR_RETURN(options.credentials,
                     ResolveCredentials(options.credentials, options.profile, env));
  }
  if (options.ca_bundle.empty()) {
    options.ca_bundle = ExpandHome(Get(env, "AWS_CA_BUNDLE"), env);
  }
  if (options.ca_bundle.empty()) {
    std::map<std::string, Section> storage;
    if (const Section* s = FindConfigProfile(ReadIniFile(ConfigPath(env)),
                                             ProfileName(options.profile, env), storage)) {
      options.ca_bundle = ExpandHome(Value(*s, "ca_bundle"), env);
    }
  }
  return options;
}

}  // namespace garcon::client
