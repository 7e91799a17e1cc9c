// Garcon's payload operations on the engine: PutPayload stores bytes under
// their SHA-256 in a domain, durably (a restart keeps them), and retention
// purges them once no run the domain still holds can reference them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/engine_fixture.h"
#include "garcon/payloads.h"
#include "protocol/sigv4.h"

namespace garcon::engine::testing {
namespace {

using ::testing::HasSubstr;

class Payloads : public EngineFixture {
 protected:
  std::string Put(const std::string& data, const std::string& domain = kDomain) {
    return Ok("PutPayload", {{"domain", domain}, {"data", data}}).value("key", "");
  }
  Result<Json> Get(const std::string& key, const std::string& domain = kDomain) {
    return Call("GetPayload", {{"domain", domain}, {"key", key}});
  }
};

TEST_F(Payloads, APutPayloadIsReadBackByTheSha256OfItsBytes) {
  RegisterDomain();
  const std::string data = std::string(100000, 'x') + "\xc3\xa9\n\"end\"";
  const std::string key = Put(data);
  EXPECT_EQ(key, sigv4::Sha256Hex(data));
  Result<Json> got = Get(key);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ((*got)["data"], data);
  // The same bytes again: the same key, nothing duplicated.
  EXPECT_EQ(Put(data), key);
  if (Reopen()) {
    got = Get(key);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ((*got)["data"], data);
  }
}

TEST_F(Payloads, PayloadsBelongToTheirDomain) {
  RegisterDomain();
  RegisterDomain("other");
  const std::string key = Put("only in d");
  EXPECT_TRUE(Get(key).ok());
  Result<Json> elsewhere = Get(key, "other");
  EXPECT_EQ(elsewhere.fault(), Fault::kUnknownResource);
  EXPECT_THAT(elsewhere.status().message(), HasSubstr("Unknown payload"));
}

TEST_F(Payloads, BadRequestsGetClearFaults) {
  RegisterDomain();
  EXPECT_EQ(Call("PutPayload", {{"domain", "nowhere"}, {"data", "x"}}).fault(),
            Fault::kUnknownResource);
  EXPECT_EQ(Call("PutPayload", {{"domain", kDomain}}).fault(), Fault::kValidation);
  EXPECT_EQ(Call("PutPayload", {{"domain", kDomain}, {"data", 12}}).fault(),
            Fault::kSerialization);
  Result<Json> too_big =
      Call("PutPayload", {{"domain", kDomain}, {"data", std::string(kMaxPayloadBytes + 1, 'b')}});
  EXPECT_EQ(too_big.fault(), Fault::kValidation);
  EXPECT_THAT(too_big.status().message(), HasSubstr(std::to_string(kMaxPayloadBytes)));
  EXPECT_EQ(Get("not-a-key").fault(), Fault::kValidation);
  EXPECT_EQ(Get(std::string(64, 'a')).fault(), Fault::kUnknownResource);
  EXPECT_EQ(Call("GetPayload", {{"domain", "nowhere"}, {"key", std::string(64, 'a')}}).fault(),
            Fault::kUnknownResource);
  EXPECT_EQ(Call("GetPayload", Json::array()).fault(), Fault::kSerialization);
}

TEST_F(Payloads, RetentionPurgesPayloadsNoRetainedRunCanReference) {
  RegisterTypes();  // domain retention: 1 day
  // A run that closes at once, and a payload put during it.
  const std::string closed_run = Start("closed");
  const std::string closed_payload = Put("of the closed run");
  Ok("TerminateWorkflowExecution", {{"domain", kDomain}, {"workflowId", "closed"}});
  // Hours later, a run that stays open, with its own payload.
  clock_->AdvanceSeconds(3 * 3600);
  Start("open");
  const std::string open_payload = Put("of the open run");

  // A day after the close: the closed run is purged, and with it the payload
  // put before the open run started. The open run's payload stays.
  EXPECT_EQ(engine_->GetStats().closed_executions, 1u);
  clock_->AdvanceSeconds(86400);
  EXPECT_EQ(Call("DescribeWorkflowExecution",
                 {{"domain", kDomain}, {"execution", {{"workflowId", "closed"}, {"runId", closed_run}}}})
                .fault(),
            Fault::kUnknownResource);
  EXPECT_EQ(Get(closed_payload).fault(), Fault::kUnknownResource);
  EXPECT_TRUE(Get(open_payload).ok());
  if (Reopen()) {
    EXPECT_EQ(Get(closed_payload).fault(), Fault::kUnknownResource);
    EXPECT_TRUE(Get(open_payload).ok());
  }
}

TEST_F(Payloads, APayloadPutAgainByANewerRunIsKept) {
  RegisterTypes();
  Start("first");
  const std::string key = Put("shared bytes");
  Ok("TerminateWorkflowExecution", {{"domain", kDomain}, {"workflowId", "first"}});
  clock_->AdvanceSeconds(2 * 3600);
  Start("second");
  EXPECT_EQ(Put("shared bytes"), key);  // refreshed: the second run references it
  clock_->AdvanceSeconds(86400);
  EXPECT_TRUE(Get(key).ok());
}

}  // namespace
}  // namespace garcon::engine::testing
