// The services a flow program uses against a remote engine (`garcon
// server`, Amazon SWF, or any SWF implementation): one client for long
// polls and one for everything else, so that stopping can end the held polls
// at once without cutting the answer of a task being finished.
#pragma once

#include <memory>
#include <string>

#include "garcon/client.h"
#include "garcon/service.h"

namespace garcon::app {

struct RemoteOptions {
  std::string endpoint;  // empty: AWS_ENDPOINT_URL_SWF, else Amazon SWF in the region
  std::string region;
  std::string profile;
};

class RemoteService final : public swf::Service {
 public:
  // Resolves credentials, region and endpoint as the AWS tools do. Without
  // credentials and with an explicit endpoint, requests go unsigned (a
  // `garcon server` without --credentials accepts them).
  static Result<std::unique_ptr<RemoteService>> Open(const RemoteOptions& options);

  Result<Json> Call(std::string_view operation, const Json& request) override;

  // Ends held polls now and makes later polls fail; other calls go on.
  void StopPolls();

  const std::string& endpoint() const { return endpoint_; }

  // Where payloads go: S3 when GARCON_PAYLOAD_BUCKET is set, else null (the
  // engine's own store, through this service).
  const std::shared_ptr<PayloadStore>& payloads() const { return payloads_; }

 private:
  std::unique_ptr<client::HttpService> polls_;
  std::unique_ptr<client::HttpService> calls_;
  std::string endpoint_;
  std::shared_ptr<PayloadStore> payloads_;
};

}  // namespace garcon::app
