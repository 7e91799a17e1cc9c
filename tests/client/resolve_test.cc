// Credentials, region and endpoint resolution: precedence between explicit
// values, environment variables and the shared files, with a fake
// environment and files in a temporary directory (the real environment and
// ~/.aws are never read).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "garcon/client.h"

namespace garcon::client {
namespace {

namespace fs = std::filesystem;

class ResolveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/garcon_resolve_XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    home_ = pattern;
    fs::create_directories(home_ / ".aws");
    env_["HOME"] = home_.string();
  }
  void TearDown() override { fs::remove_all(home_); }

  void Write(const fs::path& path, const std::string& text) { std::ofstream(path) << text; }
  void WriteCredentials(const std::string& text) { Write(home_ / ".aws/credentials", text); }
  void WriteConfig(const std::string& text) { Write(home_ / ".aws/config", text); }

  fs::path home_;
  Environment env_;
};

TEST_F(ResolveTest, ExplicitCredentialsWin) {
  env_["AWS_ACCESS_KEY_ID"] = "ENVKEY";
  env_["AWS_SECRET_ACCESS_KEY"] = "envsecret";
  WriteCredentials("[default]\naws_access_key_id = FILEKEY\naws_secret_access_key = f\n");
  Result<Credentials> c = ResolveCredentials({"AK", "SK", "TOKEN"}, "", env_);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "AK");
  EXPECT_EQ(c->secret_access_key, "SK");
  EXPECT_EQ(c->session_token, "TOKEN");
}

TEST_F(ResolveTest, ExplicitCredentialsNeedBothParts) {
  Result<Credentials> c = ResolveCredentials({"AK", "", ""}, "", env_);
  EXPECT_EQ(c.fault(), Fault::kMissingAuthenticationToken);
  EXPECT_NE(c.status().message().find("secret access key"), std::string::npos);
}

TEST_F(ResolveTest, EnvironmentBeatsFiles) {
  env_["AWS_ACCESS_KEY_ID"] = "ENVKEY";
  env_["AWS_SECRET_ACCESS_KEY"] = "envsecret";
  env_["AWS_SESSION_TOKEN"] = "envtoken";
  WriteCredentials("[default]\naws_access_key_id = FILEKEY\naws_secret_access_key = f\n");
  Result<Credentials> c = ResolveCredentials({}, "", env_);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "ENVKEY");
  EXPECT_EQ(c->secret_access_key, "envsecret");
  EXPECT_EQ(c->session_token, "envtoken");
}

TEST_F(ResolveTest, LegacySecurityTokenVariable) {
  env_["AWS_ACCESS_KEY_ID"] = "ENVKEY";
  env_["AWS_SECRET_ACCESS_KEY"] = "envsecret";
  env_["AWS_SECURITY_TOKEN"] = "legacy";
  Result<Credentials> c = ResolveCredentials({}, "", env_);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->session_token, "legacy");
}

TEST_F(ResolveTest, PartialEnvironmentIsAnError) {
  env_["AWS_ACCESS_KEY_ID"] = "ENVKEY";
  WriteCredentials("[default]\naws_access_key_id = FILEKEY\naws_secret_access_key = f\n");
  Result<Credentials> c = ResolveCredentials({}, "", env_);
  EXPECT_EQ(c.fault(), Fault::kMissingAuthenticationToken);
  EXPECT_NE(c.status().message().find("AWS_SECRET_ACCESS_KEY"), std::string::npos);
}

TEST_F(ResolveTest, EmptyVariablesCountAsUnset) {
  env_["AWS_ACCESS_KEY_ID"] = "";
  env_["AWS_SECRET_ACCESS_KEY"] = "";
  WriteCredentials("[default]\naws_access_key_id = FILEKEY\naws_secret_access_key = f\n");
  Result<Credentials> c = ResolveCredentials({}, "", env_);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "FILEKEY");
}

TEST_F(ResolveTest, DefaultProfileOfTheCredentialsFile) {
  WriteCredentials(
      "# a comment\n"
      "[other]\naws_access_key_id = OTHER\naws_secret_access_key = o\n"
      "\n[default]\n"
      "AWS_Access_Key_ID = FILEKEY\n"  // keys are case-insensitive
      "aws_secret_access_key: s/with+chars=\n"
      "  ; an indented comment\n"
      "aws_session_token = tok\n");
  Result<Credentials> c = ResolveCredentials({}, "", env_);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "FILEKEY");
  EXPECT_EQ(c->secret_access_key, "s/with+chars=");
  EXPECT_EQ(c->session_token, "tok");
}

TEST_F(ResolveTest, AwsProfileSelectsASection) {
  env_["AWS_PROFILE"] = "work";
  WriteCredentials(
      "[default]\naws_access_key_id = DEF\naws_secret_access_key = d\n"
      "[work]\naws_access_key_id = WORK\naws_secret_access_key = w\n");
  Result<Credentials> c = ResolveCredentials({}, "", env_);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "WORK");
  EXPECT_EQ(ProfileName("", env_), "work");
  EXPECT_EQ(ProfileName("given", env_), "given");
}

TEST_F(ResolveTest, AwsProfileDoesNotHideEnvironmentKeysButAGivenProfileDoes) {
  // botocore: AWS_PROFILE leaves the AWS_ACCESS_KEY_ID variables first;
  // a profile named in code (profile_name=) skips them.
  env_["AWS_PROFILE"] = "work";
  env_["AWS_ACCESS_KEY_ID"] = "ENVKEY";
  env_["AWS_SECRET_ACCESS_KEY"] = "e";
  WriteCredentials("[work]\naws_access_key_id = WORK\naws_secret_access_key = w\n");
  EXPECT_EQ(ResolveCredentials({}, "", env_)->access_key_id, "ENVKEY");
  EXPECT_EQ(ResolveCredentials({}, "work", env_)->access_key_id, "WORK");
}

TEST_F(ResolveTest, ProfilesInTheConfigFileUseTheProfilePrefix) {
  // In config, [work] is not a profile; [profile work] is. [default] is.
  WriteConfig(
      "[work]\naws_access_key_id = WRONG\naws_secret_access_key = x\n"
      "[profile work]\naws_access_key_id = CONFWORK\naws_secret_access_key = c\n"
      "[profile \"with space\"]\naws_access_key_id = SPACED\naws_secret_access_key = s\n"
      "[default]\naws_access_key_id = CONFDEF\naws_secret_access_key = d\n");
  EXPECT_EQ(ResolveCredentials({}, "work", env_)->access_key_id, "CONFWORK");
  EXPECT_EQ(ResolveCredentials({}, "with space", env_)->access_key_id, "SPACED");
  EXPECT_EQ(ResolveCredentials({}, "", env_)->access_key_id, "CONFDEF");
}

TEST_F(ResolveTest, CredentialsFileBeatsConfigFile) {
  WriteCredentials("[work]\naws_access_key_id = CRED\naws_secret_access_key = c\n");
  WriteConfig("[profile work]\naws_access_key_id = CONF\naws_secret_access_key = c\n");
  EXPECT_EQ(ResolveCredentials({}, "work", env_)->access_key_id, "CRED");
}

TEST_F(ResolveTest, InTheCredentialsFileTheProfilePrefixIsNotSpecial) {
  WriteCredentials("[profile work]\naws_access_key_id = CRED\naws_secret_access_key = c\n");
  Result<Credentials> c = ResolveCredentials({}, "work", env_);
  EXPECT_EQ(c.fault(), Fault::kMissingAuthenticationToken);
}

TEST_F(ResolveTest, FileLocationsFromTheEnvironment) {
  fs::path elsewhere = home_ / "elsewhere";
  fs::create_directories(elsewhere);
  Write(elsewhere / "creds", "[default]\naws_access_key_id = MOVED\naws_secret_access_key = m\n");
  Write(elsewhere / "conf", "[default]\nregion = eu-central-1\n");
  WriteCredentials("[default]\naws_access_key_id = HOMEKEY\naws_secret_access_key = h\n");
  env_["AWS_SHARED_CREDENTIALS_FILE"] = "~/elsewhere/creds";  // ~ is $HOME
  env_["AWS_CONFIG_FILE"] = (elsewhere / "conf").string();
  EXPECT_EQ(ResolveCredentials({}, "", env_)->access_key_id, "MOVED");
  EXPECT_EQ(ResolveRegion("", "", env_), "eu-central-1");
}

TEST_F(ResolveTest, MissingCredentialsSayWhatToSet) {
  Result<Credentials> c = ResolveCredentials({}, "", env_);
  ASSERT_EQ(c.fault(), Fault::kMissingAuthenticationToken);
  const std::string& m = c.status().message();
  EXPECT_NE(m.find("no AWS credentials found"), std::string::npos) << m;
  EXPECT_NE(m.find("AWS_ACCESS_KEY_ID"), std::string::npos) << m;
  EXPECT_NE(m.find((home_ / ".aws/credentials").string()), std::string::npos) << m;
}

TEST_F(ResolveTest, NoHomeNoFiles) {
  env_.erase("HOME");
  EXPECT_EQ(ResolveCredentials({}, "", env_).fault(), Fault::kMissingAuthenticationToken);
  EXPECT_EQ(ResolveRegion("", "", env_), "us-east-1");
}

TEST_F(ResolveTest, UnknownNamedProfileIsAnError) {
  WriteCredentials("[default]\naws_access_key_id = DEF\naws_secret_access_key = d\n");
  Result<Credentials> c = ResolveCredentials({}, "nope", env_);
  ASSERT_EQ(c.fault(), Fault::kMissingAuthenticationToken);
  EXPECT_NE(c.status().message().find("'nope'"), std::string::npos) << c.status().message();
  env_["AWS_PROFILE"] = "nope";
  EXPECT_EQ(ResolveCredentials({}, "", env_).fault(), Fault::kMissingAuthenticationToken);
}

TEST_F(ResolveTest, ProfileWithOnlyAKeyIdIsAnError) {
  WriteCredentials("[default]\naws_access_key_id = DEF\n");
  Result<Credentials> c = ResolveCredentials({}, "", env_);
  ASSERT_EQ(c.fault(), Fault::kMissingAuthenticationToken);
  EXPECT_NE(c.status().message().find("no aws_secret_access_key"), std::string::npos);
}

TEST_F(ResolveTest, RegionPrecedence) {
  WriteConfig("[default]\nregion = ap-south-1\n[profile work]\nregion = sa-east-1\n");
  EXPECT_EQ(ResolveRegion("", "", env_), "ap-south-1");
  EXPECT_EQ(ResolveRegion("", "work", env_), "sa-east-1");
  env_["AWS_PROFILE"] = "work";
  EXPECT_EQ(ResolveRegion("", "", env_), "sa-east-1");
  env_["AWS_DEFAULT_REGION"] = "eu-west-2";
  EXPECT_EQ(ResolveRegion("", "", env_), "eu-west-2");
  env_["AWS_REGION"] = "eu-west-3";
  EXPECT_EQ(ResolveRegion("", "", env_), "eu-west-3");
  EXPECT_EQ(ResolveRegion("us-west-1", "", env_), "us-west-1");
  EXPECT_EQ(ResolveRegion("", "", {}), "us-east-1");
}

TEST_F(ResolveTest, EndpointPrecedence) {
  EXPECT_EQ(ResolveEndpoint("", "eu-west-1", "", env_), "https://swf.eu-west-1.amazonaws.com");
  EXPECT_EQ(ResolveEndpoint("", "cn-north-1", "", env_), "https://swf.cn-north-1.amazonaws.com.cn");
  WriteConfig("[default]\nendpoint_url = http://from-config:1\n");
  EXPECT_EQ(ResolveEndpoint("", "eu-west-1", "", env_), "http://from-config:1");
  env_["AWS_ENDPOINT_URL"] = "http://global:2";
  EXPECT_EQ(ResolveEndpoint("", "eu-west-1", "", env_), "http://global:2");
  env_["AWS_ENDPOINT_URL_SWF"] = "http://swf-only:3";
  EXPECT_EQ(ResolveEndpoint("", "eu-west-1", "", env_), "http://swf-only:3");
  EXPECT_EQ(ResolveEndpoint("http://given:4", "eu-west-1", "", env_), "http://given:4");
  env_["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"] = "true";
  EXPECT_EQ(ResolveEndpoint("", "eu-west-1", "", env_), "https://swf.eu-west-1.amazonaws.com");
  EXPECT_EQ(ResolveEndpoint("http://given:4", "eu-west-1", "", env_), "http://given:4");
}

TEST_F(ResolveTest, ResolveOptionsFillsWhatIsMissing) {
  env_["AWS_ACCESS_KEY_ID"] = "ENVKEY";
  env_["AWS_SECRET_ACCESS_KEY"] = "e";
  env_["AWS_DEFAULT_REGION"] = "eu-west-1";
  env_["AWS_CA_BUNDLE"] = "/etc/ca.pem";
  Result<ClientOptions> o = ResolveOptions({}, env_);
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->region, "eu-west-1");
  EXPECT_EQ(o->endpoint, "https://swf.eu-west-1.amazonaws.com");
  EXPECT_EQ(o->credentials.access_key_id, "ENVKEY");
  EXPECT_EQ(o->ca_bundle, "/etc/ca.pem");

  ClientOptions given;
  given.endpoint = "http://127.0.0.1:7800";
  given.region = "us-west-2";
  o = ResolveOptions(given, env_);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->endpoint, "http://127.0.0.1:7800");
  EXPECT_EQ(o->region, "us-west-2");
}

TEST_F(ResolveTest, ResolveOptionsErrors) {
  // No credentials.
  EXPECT_EQ(ResolveOptions({}, env_).fault(), Fault::kMissingAuthenticationToken);
  // Anonymous needs none.
  ClientOptions anonymous;
  anonymous.anonymous = true;
  EXPECT_TRUE(ResolveOptions(anonymous, env_).ok());
  // Bad endpoint, bad region.
  ClientOptions bad = anonymous;
  bad.endpoint = "ftp://x";
  EXPECT_EQ(ResolveOptions(bad, env_).fault(), Fault::kValidation);
  bad.endpoint = "";
  bad.region = "us east 1";
  EXPECT_EQ(ResolveOptions(bad, env_).fault(), Fault::kValidation);
}

TEST(ProcessEnvironmentTest, ReadsTheRealEnvironment) {
  ::setenv("GARCON_CLIENT_TEST_VAR", "a=b", 1);
  Environment env = ProcessEnvironment();
  EXPECT_EQ(env["GARCON_CLIENT_TEST_VAR"], "a=b");
  ::unsetenv("GARCON_CLIENT_TEST_VAR");
}

}  // namespace
}  // namespace garcon::client
