// swf_call: one HttpService call described by a JSON object on stdin, for
// tests written in Python (test_signing.py). Input:
//   {"endpoint": URL, "region": R, "access_key_id": K, "secret_access_key": S,
//    "session_token": T (optional), "operation": OP, "request": {...}}
// Prints one JSON line: {"ok": true, "response": {...}} or
// {"ok": false, "fault": NAME, "message": M}. Exits 2 on bad input.
#include <iostream>
#include <iterator>

#include "garcon/client.h"

int main() {
  using garcon::Json;
  std::string text((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  Json in = Json::parse(text, nullptr, false);
  if (!in.is_object()) {
    std::cerr << "stdin must be a JSON object\n";
    return 2;
  }
  garcon::client::ClientOptions options;
  options.endpoint = in.value("endpoint", "");
  options.region = in.value("region", "us-east-1");
  options.credentials.access_key_id = in.value("access_key_id", "");
  options.credentials.secret_access_key = in.value("secret_access_key", "");
  options.credentials.session_token = in.value("session_token", "");
  options.proxy = "";
  options.max_retries = 0;
  auto service = garcon::client::HttpService::Create(options);
  if (!service.ok()) {
    std::cerr << service.status().ToString() << "\n";
    return 2;
  }
  garcon::Result<Json> r =
      (*service)->Call(in.value("operation", ""), in.value("request", Json::object()));
  Json out;
  if (r.ok()) {
    out = {{"ok", true}, {"response", *r}};
  } else {
    out = {{"ok", false},
           {"fault", std::string(garcon::FaultName(r.fault()))},
           {"message", r.status().message()}};
  }
  std::cout << out.dump() << std::endl;
  return 0;
}
