#include "app/remote.h"

#include <spdlog/spdlog.h>

#include "base/status_macros.h"

namespace garcon::app {

Result<std::unique_ptr<RemoteService>> RemoteService::Open(const RemoteOptions& options) {
  client::ClientOptions given;
  given.endpoint = options.endpoint;
  given.region = options.region;
  given.profile = options.profile;
  const client::Environment env = client::ProcessEnvironment();
  Result<client::ClientOptions> resolved = client::ResolveOptions(given, env);
  if (!resolved.ok() && !options.endpoint.empty()) {
    // No credentials anywhere: fine for a local server that checks none.
    spdlog::info("no AWS credentials found ({}); sending unsigned requests to {}",
                 resolved.status().message(), options.endpoint);
    given.anonymous = true;
    resolved = client::ResolveOptions(given, env);
  }
  if (!resolved.ok()) return resolved.status();
  auto service = std::unique_ptr<RemoteService>(new RemoteService());
  service->endpoint_ = resolved->endpoint;
  ASSIGN_OR_RETURN(service->polls_, client::HttpService::Create(*resolved));
  ASSIGN_OR_RETURN(service->calls_, client::HttpService::Create(*resolved));
  // GARCON_PAYLOAD_BUCKET: payloads in S3 (Amazon SWF has no payload store).
  ASSIGN_OR_RETURN(service->payloads_, client::PayloadsFromEnvironment(*resolved, env));
  return service;
}

Result<Json> RemoteService::Call(std::string_view operation, const Json& request) {
  const bool poll = operation == "PollForDecisionTask" || operation == "PollForActivityTask";
  return (poll ? polls_ : calls_)->Call(operation, request);
}

void RemoteService::StopPolls() { polls_->Shutdown(); }

}  // namespace garcon::app
