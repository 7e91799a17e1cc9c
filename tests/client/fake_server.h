// A tiny scripted HTTP/1.1 server on loopback for the client's tests: it
// records every request (with the connection it came on) and answers what a
// handler says: any status, headers and body, after a delay, or by closing
// the connection without an answer. Keep-alive by default.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace garcon::client::testing {

struct CapturedRequest {
  std::string method;
  std::string target;                                        // request-target, e.g. "/"
  std::vector<std::pair<std::string, std::string>> headers;  // as received
  std::string body;
  int connection = 0;  // 1, 2, ... in the order connections were accepted

  // The first value of header `name` (case-insensitive), or "".
  std::string Header(std::string_view name) const {
    for (const auto& [n, v] : headers) {
      if (n.size() != name.size()) continue;
      bool same = true;
      for (std::size_t i = 0; i < n.size() && same; ++i) {
        same = std::tolower(static_cast<unsigned char>(n[i])) ==
               std::tolower(static_cast<unsigned char>(name[i]));
      }
      if (same) return v;
    }
    return "";
  }
  std::string Operation() const {
    std::string target_header = Header("X-Amz-Target");
    std::size_t dot = target_header.find('.');
    return dot == std::string::npos ? target_header : target_header.substr(dot + 1);
  }
};

struct ScriptedResponse {
  int status = 200;
  std::string body = "{}";
  std::vector<std::pair<std::string, std::string>> headers;
  std::chrono::milliseconds delay{0};  // before answering (Stop cuts it)
  bool drop = false;                   // close the connection without answering
  bool close = false;                  // answer, then close the connection
};

inline ScriptedResponse Fault(int status, std::string type, std::string message) {
  ScriptedResponse r;
  r.status = status;
  r.body = "{\"__type\":\"" + type + "\",\"message\":\"" + message + "\"}";
  return r;
}

class FakeServer {
 public:
  using Handler = std::function<ScriptedResponse(const CapturedRequest&)>;

  explicit FakeServer(Handler handler = nullptr) : handler_(std::move(handler)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listen_fd_, 64) != 0) {
      std::abort();
    }
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    accept_thread_ = std::thread([this] { AcceptLoop(); });
  }

  ~FakeServer() { Stop(); }
  FakeServer(const FakeServer&) = delete;
  FakeServer& operator=(const FakeServer&) = delete;

  // Answers the next requests with `responses` in order; once they are used
  // up, with the last one again.
  void Script(std::vector<ScriptedResponse> responses) {
    std::lock_guard lock(mu_);
    script_.assign(responses.begin(), responses.end());
  }
  void SetHandler(Handler handler) {
    std::lock_guard lock(mu_);
    handler_ = std::move(handler);
  }

  std::uint16_t port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  std::vector<CapturedRequest> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }
  int connections() const { return connections_.load(); }

  void Stop() {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      stopping_ = true;
    }
    cv_.notify_all();
    if (accept_thread_.joinable()) accept_thread_.join();
    std::vector<std::thread> threads;
    {
      std::lock_guard lock(mu_);
      threads.swap(connection_threads_);
    }
    for (auto& t : threads) t.join();
    ::close(listen_fd_);
  }

 private:
  bool stopping() const {
    std::lock_guard lock(mu_);
    return stopping_;
  }

  // Waits until `fd` is readable; false when stopping.
  bool WaitReadable(int fd) {
    while (!stopping()) {
      pollfd p{fd, POLLIN, 0};
      int n = ::poll(&p, 1, 20);
      if (n > 0) return true;
    }
    return false;
  }

  void AcceptLoop() {
    while (WaitReadable(listen_fd_)) {
      int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) continue;
      int id = ++connections_;
      std::lock_guard lock(mu_);
      connection_threads_.emplace_back([this, fd, id] { Serve(fd, id); });
    }
  }

  static std::string Lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  }

  // Reads one request from `fd` (buffer carries over); false on EOF/stop.
  bool ReadRequest(int fd, std::string& buffer, CapturedRequest& out) {
    std::size_t end;
    while ((end = buffer.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill(fd, buffer)) return false;
    }
    std::string head = buffer.substr(0, end);
    buffer.erase(0, end + 4);
    std::size_t line_end = head.find("\r\n");
    std::string request_line = head.substr(0, line_end);
    std::size_t sp1 = request_line.find(' ');
    std::size_t sp2 = request_line.rfind(' ');
    out.method = request_line.substr(0, sp1);
    out.target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
    std::size_t content_length = 0;
    std::size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
    while (pos < head.size()) {
      std::size_t next = head.find("\r\n", pos);
      if (next == std::string::npos) next = head.size();
      std::string line = head.substr(pos, next - pos);
      pos = next + 2;
      std::size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string name = line.substr(0, colon);
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      if (Lower(name) == "content-length") content_length = std::stoul(value);
      out.headers.emplace_back(std::move(name), std::move(value));
    }
    while (buffer.size() < content_length) {
      if (!Fill(fd, buffer)) return false;
    }
    out.body = buffer.substr(0, content_length);
    buffer.erase(0, content_length);
    return true;
  }

  bool Fill(int fd, std::string& buffer) {
    if (!WaitReadable(fd)) return false;
    char chunk[8192];
    ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buffer.append(chunk, static_cast<std::size_t>(n));
    return true;
  }

  ScriptedResponse Answer(const CapturedRequest& request) {
    std::unique_lock lock(mu_);
    requests_.push_back(request);
    if (!script_.empty()) {
      ScriptedResponse r = script_.front();
      if (script_.size() > 1) script_.pop_front();
      return r;
    }
    Handler handler = handler_;
    lock.unlock();
    return handler ? handler(request) : ScriptedResponse{};
  }

  void Serve(int fd, int id) {
    std::string buffer;
    for (;;) {
      CapturedRequest request;
      request.connection = id;
      if (!ReadRequest(fd, buffer, request)) break;
      ScriptedResponse response = Answer(request);
      if (response.delay.count() > 0) {
        std::unique_lock lock(mu_);
        cv_.wait_for(lock, response.delay, [this] { return stopping_; });
        if (stopping_) break;
      }
      if (response.drop) break;
      std::string out = "HTTP/1.1 " + std::to_string(response.status) + " Scripted\r\n";
      out += "Content-Length: " + std::to_string(response.body.size()) + "\r\n";
      out += "x-amzn-RequestId: req-" + std::to_string(id) + "\r\n";
      for (const auto& [n, v] : response.headers) out += n + ": " + v + "\r\n";
      if (response.close) out += "Connection: close\r\n";
      out += "\r\n" + response.body;
      std::size_t sent = 0;
      while (sent < out.size()) {
        ssize_t n = ::send(fd, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) break;
        sent += static_cast<std::size_t>(n);
      }
      if (response.close) break;
    }
    ::close(fd);
  }

  Handler handler_;
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::thread accept_thread_;
  std::atomic<int> connections_{0};

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::deque<ScriptedResponse> script_;
  std::vector<CapturedRequest> requests_;
  std::vector<std::thread> connection_threads_;
};

// A port nothing listens on (bound, then closed).
inline std::uint16_t ClosedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace garcon::client::testing
