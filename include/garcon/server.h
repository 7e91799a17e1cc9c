// garcon server: the embedded engine behind Amazon SWF's own wire protocol
// (AWS JSON 1.0 over HTTP/1.1), so boto3, the AWS CLI, the AWS SDKs and the
// original Python Garcon work against it unchanged. docs/protocol.md
// describes what is on the wire.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "garcon/clock.h"
#include "garcon/engine.h"
#include "garcon/status.h"

namespace garcon::server {

struct ServerOptions {
  // Loopback by default: a server reachable from other machines is opt-in.
  std::string bind_address = "127.0.0.1";
  // 0 picks a free port; HttpServer::port() tells which.
  std::uint16_t port = 7800;
  // I/O threads; 0 (or less): half the machine's cores, at least one. Long
  // polls hold no thread, so a few serve thousands. The engine runs one
  // call at a time, so more threads only parse and write HTTP and JSON in
  // parallel, and each costs wake-ups across cores and contention for the
  // engine's lock: on 2 cores one thread served 1.2-1.5x the calls of two
  // (docs/benchmarks.md, "Sixth round").
  int threads = 0;
  // Access key id -> secret. When not empty, every request's SigV4 signature
  // is verified; when empty, any signature (or none) is accepted and the
  // access key id is logged.
  std::map<std::string, std::string> credentials;
  // Without credentials, Start() refuses an address other than loopback:
  // anyone who can reach the port could then run, complete or terminate
  // workflows. Set this to serve without signatures on purpose (behind a
  // proxy that authenticates, on a private network); the log then warns.
  bool insecure = false;
  // Allowed difference between a signed request's date and the clock.
  Duration max_clock_skew = std::chrono::minutes(15);
  // Request bodies larger than this are refused with 413 before being read.
  std::size_t max_body_bytes = 1 << 20;
  // Open connections at most. At the cap, a new connection first takes the
  // place of an idle keep-alive one (which is closed: clients reconnect);
  // when none is idle it is answered 503 ServiceUnavailable at once and
  // closed. Start() raises the process's open-file limit to fit the cap, or
  // lowers the cap to fit the limit (and says so in the log).
  std::size_t max_connections = 1000;
  // A keep-alive connection with no request started for this long is closed.
  Duration idle_timeout = std::chrono::seconds(60);
  // Once a request's first byte arrived, its headers and body must arrive
  // within this, or the connection is closed (slow clients).
  Duration read_timeout = std::chrono::seconds(30);
  // A response not written within this closes the connection.
  Duration write_timeout = std::chrono::seconds(30);
  // How long Stop() waits for open requests to be answered.
  Duration stop_grace = std::chrono::seconds(5);
  // Time for signature dates. Defaults to the system clock.
  std::shared_ptr<Clock> clock;
};

class HttpServerImpl;

// Serves `POST /` with `X-Amz-Target: SimpleWorkflowService.<Operation>` by
// calling the engine (long polls through Engine::CallAsync, holding no
// thread), `GET /health` and `GET /metrics`. Thread-safe. The engine must
// outlive the server.
class HttpServer {
 public:
  HttpServer(engine::Engine& engine, ServerOptions options = {});
  // Stops the server if it is running.
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts serving on the I/O threads. Errors: kValidation when
  // the bind address is not an IP address, is not loopback while no
  // credentials are configured and `insecure` is not set, or Start was
  // already called,
  // kServiceUnavailable when the address cannot be bound (the message says
  // why, e.g. the port is in use).
  Status Start();

  // Stops accepting, answers this server's held polls with the empty-poll
  // shape (Engine::Cancel), lets responses in progress finish (up to
  // stop_grace), closes every connection and joins the I/O threads.
  // Idempotent. The engine itself is left running.
  void Stop();

  // The bound port (after Start), e.g. the one picked for port 0.
  std::uint16_t port() const;

  // The number of I/O threads (ServerOptions::threads, 0 resolved).
  int threads() const;

  // The /metrics text (Prometheus exposition format).
  std::string MetricsText() const;

 private:
  std::unique_ptr<HttpServerImpl> impl_;
};

// Reads a credentials file: one `ACCESS_KEY_ID SECRET` pair a line
// (whitespace-separated); blank lines and lines starting with '#' are
// skipped. Errors: kValidation naming the file and line (a line without
// exactly two fields, a repeated key), kValidation when group or others may
// read or write the file (as ssh refuses such keys: chmod 600 it),
// kUnknownResource when unreadable.
Result<std::map<std::string, std::string>> ReadCredentialsFile(const std::string& path);

}  // namespace garcon::server
