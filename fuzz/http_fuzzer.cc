// The server's HTTP request handling, over a real loopback connection.
//
// Two HttpServers run in this process, each on 127.0.0.1 with a port picked
// by the system and its own in-memory engine (domain "d", types "wf"/"1"
// and "act"/"1", polls held 100 ms): one accepts any signature, the other
// verifies SigV4 signatures (key AKIDFUZZ / secret fuzz-secret-key, its
// clock fixed at 2026-01-01T12:00:00Z so checked-in signed seeds verify).
// An input containing "Credential=" goes to the verifying one.
//
// Per input: connect, write the bytes, half-close, read whatever comes back
// (at most 2 s), close. Then the server must still answer GET /health with
// 200 on a new connection (a second try, reported, after a 3 s stall), else
// abort().
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include <spdlog/cfg/env.h>
#include <spdlog/spdlog.h>

#include "fuzz_common.h"
#include "garcon/server.h"

namespace {

namespace fz = garcon::fuzz;
using namespace std::chrono_literals;

constexpr int kInputsPerServer = 20000;
constexpr auto kReadTimeout = 2s;
constexpr std::chrono::milliseconds kHealthTimeout = 3s;
constexpr std::chrono::milliseconds kHealthRetry = 4s;  // all within -timeout=10

struct Served {
  std::unique_ptr<garcon::engine::Engine> engine;
  std::unique_ptr<garcon::server::HttpServer> server;
  std::uint16_t port = 0;

  explicit Served(bool verify) {
    garcon::engine::EngineOptions eo;
    eo.poll_timeout = 100ms;
    engine = std::make_unique<garcon::engine::Engine>(std::move(eo));
    fz::RegisterBasics(*engine);
    fz::StartWorkflow(*engine, "w");
    garcon::server::ServerOptions so;
    so.port = 0;
    so.threads = 2;
    so.read_timeout = 1s;
    so.idle_timeout = 1s;
    so.write_timeout = 1s;
    so.stop_grace = 1s;
    so.max_body_bytes = 64 * 1024;
    so.clock = std::make_shared<garcon::FakeClock>(garcon::FromEpochSeconds(1767268800.0));
    if (verify) so.credentials = {{"AKIDFUZZ", "fuzz-secret-key"}};
    server = std::make_unique<garcon::server::HttpServer>(*engine, so);
    garcon::Status started = server->Start();
    if (!started.ok()) fz::Die("server did not start: " + started.ToString());
    port = server->port();
  }
  ~Served() {
    server->Stop();
    server.reset();
    engine.reset();
  }
};

// A client connection from 127.0.0.X (X cycling over 2..254) with port 0:
// two connections per input at ~1000 inputs/s would otherwise exhaust the
// 127.0.0.1 ephemeral ports and collide with connections in TIME_WAIT.
int Connect(std::uint16_t port) {
  static std::uint32_t next_source = 0;
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) fz::Die(std::string("socket() failed: ") + std::strerror(errno));
  int one = 1;
  ::setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
  sockaddr_in source{};
  source.sin_family = AF_INET;
  source.sin_addr.s_addr = htonl(INADDR_LOOPBACK + 1 + (next_source++ % 253));
  if (::bind(fd, reinterpret_cast<sockaddr*>(&source), sizeof source) != 0) {
    fz::Die(std::string("bind() failed: ") + std::strerror(errno));
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    int error = errno;
    if (error == EINTR) {
      // Interrupted (libFuzzer's SIGALRM) while the SYN was being
      // retransmitted: the connection goes on; wait for its outcome.
      pollfd p{fd, POLLOUT, 0};
      socklen_t len = sizeof error;
      error = ETIMEDOUT;
      if (::poll(&p, 1, 5000) == 1) ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len);
    }
    if (error != 0) {
      ::close(fd);
      errno = error;
      return -1;
    }
  }
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

// Closes without leaving the client side in TIME_WAIT (a reset).
void Abort(int fd) {
  linger l{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  ::close(fd);
}

bool SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// Reads until EOF, an error or `timeout` passed.
std::string ReadAll(int fd, std::chrono::milliseconds timeout) {
  std::string out;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buffer[8192];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return out;
    pollfd p{fd, POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
    if (ready <= 0) return out;
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) return out;
    out.append(buffer, static_cast<std::size_t>(n));
  }
}

// GET /health on a new connection: the answer, or "" after `timeout`.
std::string Health(const Served& s, std::chrono::milliseconds timeout) {
  const int fd = Connect(s.port);
  if (fd < 0) {
    fz::Die(std::string("cannot connect to the server after the input: ") + std::strerror(errno));
  }
  const bool sent =
      SendAll(fd, "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  std::string answer = sent ? ReadAll(fd, timeout) : "";
  Abort(fd);
  return answer;
}

bool Healthy(const std::string& answer) {
  return answer.rfind("HTTP/1.1 200", 0) == 0 && answer.find(R"({"status":"ok"})") != std::string::npos;
}

// The server must still answer GET /health: within kHealthTimeout, else
// (a stall, e.g. a loaded machine) on a second try within kHealthRetry,
// reported on stderr; no answer at all aborts.
void CheckHealth(const Served& s) {
  if (Healthy(Health(s, kHealthTimeout))) return;
  const auto start = std::chrono::steady_clock::now();
  const std::string answer = Health(s, kHealthRetry);
  const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!Healthy(answer)) {
    fz::Die("GET /health after the input answered: '" + answer.substr(0, 300) + "'");
  }
  std::fprintf(stderr, "SLOW /health: no answer within %lld ms, then answered in %.1f s\n",
               static_cast<long long>(kHealthTimeout.count()), waited);
}

std::unique_ptr<Served> open_server, verifying_server;

void StopServers() {
  open_server.reset();
  verifying_server.reset();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::err);
  spdlog::cfg::load_env_levels();  // SPDLOG_LEVEL=warn shows the server's warnings
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static int inputs = 0;
  if (inputs++ % kInputsPerServer == 0) {
    open_server.reset();
    verifying_server.reset();
    open_server = std::make_unique<Served>(false);
    verifying_server = std::make_unique<Served>(true);
    // Stopped at exit before OpenSSL's own atexit cleanup (registered when
    // the servers first used it, so it runs after this) and before the leak
    // check: the I/O threads then end while OpenSSL can still free their
    // per-thread state.
    static const int registered = std::atexit(StopServers);
    (void)registered;
  }
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  Served& s = bytes.find("Credential=") != std::string_view::npos ? *verifying_server : *open_server;

  const int fd = Connect(s.port);
  if (fd < 0) fz::Die(std::string("cannot connect to the server: ") + std::strerror(errno));
  if (SendAll(fd, bytes)) {
    ::shutdown(fd, SHUT_WR);
    const std::string answer =
        ReadAll(fd, std::chrono::duration_cast<std::chrono::milliseconds>(kReadTimeout));
    static const bool verbose = std::getenv("GARCON_FUZZ_VERBOSE") != nullptr;
    if (verbose) {
      std::string shown = answer.substr(0, answer.find("\r\n"));
      const std::size_t body = answer.rfind("\r\n\r\n");
      if (body != std::string::npos) shown += " " + answer.substr(body + 4, 160);
      std::fprintf(stderr, "answer (%zu bytes): %s\n", answer.size(), shown.c_str());
    }
  }
  Abort(fd);
  CheckHealth(s);
  return 0;
}
