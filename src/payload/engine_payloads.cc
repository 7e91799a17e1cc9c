// EnginePayloads: payloads in the engine's own store, through Garcon's
// PutPayload and GetPayload operations.
#include <utility>

#include "base/status_macros.h"
#include "garcon/payloads.h"

namespace garcon {
namespace {

constexpr std::string_view kScheme = "engine:";

class EnginePayloadStore : public PayloadStore {
 public:
  explicit EnginePayloadStore(swf::Service& service) : service_(service) {}

  Result<std::string> Put(std::string_view domain, std::string_view data) override {
    auto answer = service_.Call("PutPayload", {{"domain", domain}, {"data", data}});
    if (!answer.ok()) {
      if (answer.status().fault() == Fault::kUnknownOperation) {
        return Status(Fault::kUnknownOperation,
                      "the endpoint has no payload store (Amazon SWF and other SWF servers "
                      "have none): give the flow an S3 bucket for payloads "
                      "(GARCON_PAYLOAD_BUCKET, docs/payloads.md)");
      }
      return answer.status();
    }
    auto key = answer->find("key");
    if (key == answer->end() || !key->is_string()) {
      return InternalError("PutPayload answered without a key");
    }
    return std::string(kScheme) + key->get<std::string>();
  }

  Result<std::string> Get(std::string_view domain, std::string_view locator) override {
    if (locator.substr(0, kScheme.size()) != kScheme) {
      return Status(Fault::kValidation, "not a payload of the engine's store: " +
                                            std::string(locator) +
                                            " (a payload in S3 needs GARCON_PAYLOAD_BUCKET)");
    }
    ASSIGN_OR_RETURN(Json answer, service_.Call("GetPayload",
                                                {{"domain", domain},
                                                 {"key", locator.substr(kScheme.size())}}));
    auto data = answer.find("data");
    if (data == answer.end() || !data->is_string()) {
      return InternalError("GetPayload answered without data");
    }
    return data->get<std::string>();
  }

 private:
  swf::Service& service_;
};

}  // namespace

std::shared_ptr<PayloadStore> EnginePayloads(swf::Service& service) {
  return std::make_shared<EnginePayloadStore>(service);
}

}  // namespace garcon
