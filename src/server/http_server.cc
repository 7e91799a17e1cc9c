// The Beast HTTP/1.1 server: an acceptor, one Session per connection (each
// on its own strand), requests dispatched onto the engine with
// Engine::CallAsync so that a held long poll costs a few hundred bytes and no
// thread.
//
// How a client that goes away mid-poll is noticed: while a poll is held, the
// session keeps one async_read_some pending on the socket. A well-behaved
// HTTP client sends nothing while it waits for a response, so that read only
// completes when the peer closes (EOF) or resets the connection; the session
// then calls Engine::Cancel, the engine withdraws the waiter (no task is
// handed to it; a task that arrives later goes to the next poller) and
// answers the cancelled call with the empty poll, which is dropped. Bytes
// that do arrive (a pipelined next request) are kept for after the answer.
// The one window left is a task assigned in the instant between the peer's
// close and the read noticing it; SWF has the same window, and the task's
// start-to-close timeout recovers it.
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <condition_variable>
#include <fstream>
#include <future>
#include <limits>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <thread>
#include <unordered_map>
#include <vector>

#include "base/limits.h"
#include "console/console.h"
#include "garcon/server.h"
#include "protocol/model.h"
#include "protocol/sigv4.h"
#include "server/wire.h"

namespace garcon::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr std::size_t kHeaderLimit = 16 * 1024;
// Bytes a client may pipeline while its poll is held before the session
// stops reading (and so stops noticing a disconnect) until the answer.
constexpr std::size_t kMaxPipelined = 64 * 1024;
// After an error response that closes the connection, what the client still
// sends is read and dropped for this long, so that our response reaches it
// instead of a reset.
constexpr auto kLinger = std::chrono::seconds(2);
constexpr std::size_t kMaxLingerBytes = 16 * 1024 * 1024;
// File descriptors kept for what is not a connection: the listening socket,
// the store's files, logs, the engine's threads.
constexpr rlim_t kReservedDescriptors = 128;
// Conditions that can repeat per connection (refusals at the cap, accept
// failures) are logged at most once per this interval, with a count.
constexpr auto kLogInterval = std::chrono::seconds(10);

// The answer to a connection refused at the cap: written at once, without
// reading the request, then the connection is closed. SDKs retry a 503.
constexpr std::string_view kBusyBody =
    R"({"__type":"com.amazon.coral.service#ServiceUnavailable","message":"The server is at its connection limit; retry later"})";
std::string BusyResponse() {
  return "HTTP/1.1 503 Service Unavailable\r\nServer: garcon\r\nContent-Type: "
         "application/x-amz-json-1.0\r\nx-amzn-ErrorType: ServiceUnavailable\r\nRetry-After: "
         "1\r\nConnection: close\r\nContent-Length: " +
         std::to_string(kBusyBody.size()) + "\r\n\r\n" + std::string(kBusyBody);
}

// Logs a condition that may happen once per connection at most once per
// kLogInterval, saying how many times it happened since. Thread-safe.
class ThrottledLog {
 public:
  template <typename Emit>
  void Note(Emit emit) {
    std::lock_guard<std::mutex> lock(mu_);
    ++count_;
    const auto now = std::chrono::steady_clock::now();
    if (logged_ && now - last_ < kLogInterval) return;
    emit(count_);
    count_ = 0;
    last_ = now;
    logged_ = true;
  }

 private:
  std::mutex mu_;
  std::chrono::steady_clock::time_point last_;
  std::size_t count_ = 0;
  bool logged_ = false;
};

// The session whose Engine::CallAsync runs on this thread, if any: its
// answer, when the engine gives it at once, needs no post.
thread_local const void* t_calling_session = nullptr;

bool IsPoll(std::string_view operation) {
  return operation == "PollForDecisionTask" || operation == "PollForActivityTask";
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

class Session;

class HttpServerImpl {
 public:
  HttpServerImpl(engine::Engine& engine, ServerOptions options)
      : engine_(engine), options_(std::move(options)) {
    if (!options_.clock) options_.clock = SystemClockInstance();
    if (options_.threads < 1) {
      options_.threads = std::max(1, static_cast<int>(std::thread::hardware_concurrency() / 2));
    }
  }
  ~HttpServerImpl() { Stop(); }

  Status Start();
  void Stop();
  std::uint16_t port() const { return port_.load(); }
  int threads() const { return options_.threads; }
  std::string MetricsText() const { return metrics_.Text(engine_.GetStats()); }

  // --- used by sessions ---
  engine::Engine& engine() { return engine_; }
  const ServerOptions& options() const { return options_; }
  Metrics& metrics() { return metrics_; }
  bool stopping() const { return stopping_.load(); }

  void Register(Session* session, std::weak_ptr<Session> weak) {
    std::lock_guard<std::mutex> lock(mu_);
    sessions_.emplace(session, std::move(weak));
  }
  void Unregister(Session* session) {
    std::lock_guard<std::mutex> lock(mu_);
    sessions_.erase(session);
    if (sessions_.empty()) cv_.notify_all();
  }
  void PollHeld(engine::Engine::CallId id) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      held_polls_.insert(id);
    }
    metrics_.PollHeld();
  }
  void PollReleased(engine::Engine::CallId id) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      held_polls_.erase(id);
    }
    metrics_.PollReleased();
  }
  void CallbackStarted() {
    std::lock_guard<std::mutex> lock(mu_);
    ++callbacks_pending_;
  }
  void CallbackFinished() {
    std::lock_guard<std::mutex> lock(mu_);
    if (--callbacks_pending_ == 0) cv_.notify_all();
  }
  void LogAccessKey(const std::string& access_key_id) {
    std::lock_guard<std::mutex> lock(mu_);
    if (seen_access_keys_.size() < 1000 && seen_access_keys_.insert(access_key_id).second) {
      spdlog::info(
          "request signed with access key id '{}' (signatures are not checked: "
          "no credentials configured)",
          access_key_id.empty() ? "<none>" : access_key_id);
    }
  }
  // At the connection cap: asks one idle keep-alive connection to close and
  // returns true, or returns false when none is idle.
  bool ReclaimIdle();

  std::optional<std::string> Secret(std::string_view access_key_id) const {
    auto it = options_.credentials.find(std::string(access_key_id));
    if (it == options_.credentials.end()) return std::nullopt;
    return it->second;
  }

 private:
  void DoAccept();
  void OnAccept(beast::error_code ec, tcp::socket socket);
  void FitConnectionCap();
  void Refuse(tcp::socket socket);

  engine::Engine& engine_;
  ServerOptions options_;
  Metrics metrics_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> started_{false};
  std::atomic<std::uint16_t> port_{0};
  std::mutex stop_mu_;  // serializes Stop calls

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions_;
  std::set<engine::Engine::CallId> held_polls_;
  std::size_t callbacks_pending_ = 0;
  std::set<std::string> seen_access_keys_;
  std::size_t max_connections_ = 0;  // options_.max_connections fitted to the fd limit
  ThrottledLog refusals_log_;
  ThrottledLog accept_errors_log_;

  // Destroyed before the members above: pending handlers own sessions,
  // whose destructors unregister.
  asio::io_context ioc_;
  std::optional<tcp::acceptor> acceptor_;
  std::optional<asio::steady_timer> accept_retry_;
  std::vector<std::thread> threads_;
};

// Counts the engine callbacks that may still post to the io_context.
struct CallbackToken {
  explicit CallbackToken(HttpServerImpl* s);
  ~CallbackToken();
  CallbackToken(const CallbackToken&) = delete;
  CallbackToken& operator=(const CallbackToken&) = delete;
  HttpServerImpl* server;
};

CallbackToken::CallbackToken(HttpServerImpl* s) : server(s) { server->CallbackStarted(); }
CallbackToken::~CallbackToken() { server->CallbackFinished(); }

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(HttpServerImpl& server, tcp::socket socket)
      : server_(server), stream_(std::move(socket)) {
    server_.metrics().ConnectionOpened();
  }
  ~Session() {
    server_.metrics().ConnectionClosed();
    server_.Unregister(this);
  }

  auto GetExecutor() { return stream_.get_executor(); }

  void Start() {
    server_.Register(this, weak_from_this());
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->ReadRequest(); });
  }

  // Whether the connection waits for the first byte of its next request.
  bool idle() const { return idle_.load(); }
  // Takes the idle mark, so that one reclaim picks a connection once.
  bool TakeIdle() { return idle_.exchange(false); }

  // The server is at its connection cap: close if still idle.
  void Reclaim() {
    if (state_ != State::kIdle) return;  // busy again, or already closed
    server_.metrics().ConnectionReclaimed();
    Close();
  }

  // The server is stopping: end an idle connection now, answer a held poll
  // now; a request in progress finishes, then the connection closes.
  void OnServerStop() {
    if (state_ == State::kIdle) {
      Close();
    } else if (poll_held_ && !answered_) {
      server_.engine().Cancel(call_id_);
    }
  }

 private:
  enum class State { kIdle, kReading, kHandling, kWriting, kLingering, kClosed };

  // What the engine holds for a call: the token first, the session second, so
  // that the session is released before the token (see HandleSwf).
  struct PendingCall {
    PendingCall(HttpServerImpl* server, std::shared_ptr<Session> session)
        : token(server), self(std::move(session)) {}
    CallbackToken token;
    std::shared_ptr<Session> self;
  };

  // --- reading -------------------------------------------------------------

  void ReadRequest() {
    if (state_ == State::kClosed) return;
    if (server_.stopping()) {
      Close();
      return;
    }
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    // No limit while the header is read: OnHeader checks Content-Length and
    // sets the limit for the body. (Not boost::none: Beast 1.74 compares the
    // Content-Length against it and then refuses every body.)
    parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    if (buffer_.size() > 0) {
      ReadHeader();
      return;
    }
    // Wait for the first byte of the next request with the idle timeout.
    state_ = State::kIdle;
    idle_ = true;
    stream_.expires_after(server_.options().idle_timeout);
    stream_.async_read_some(buffer_.prepare(4096),
                            [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                              self->idle_ = false;
                              self->buffer_.commit(n);
                              if (ec) {
                                self->Close();
                                return;
                              }
                              self->ReadHeader();
                            });
  }

  void ReadHeader() {
    state_ = State::kReading;
    read_deadline_ = std::chrono::steady_clock::now() + server_.options().read_timeout;
    stream_.expires_at(read_deadline_);
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->OnHeader(ec); });
  }

  void OnHeader(beast::error_code ec) {
    if (ec) {
      OnReadError(ec);
      return;
    }
    request_start_ = std::chrono::steady_clock::now();
    const auto& req = parser_->get();
    const auto length = parser_->content_length();
    const std::size_t limit = BodyLimit(req);
    if (length && *length > limit) {
      RefuseOversize(*length);
      return;
    }
    parser_->body_limit(limit);
    if (auto te = req.find(http::field::transfer_encoding); te != req.end()) {
      // RFC 9112 6.1: a request whose last transfer coding is not chunked has
      // no knowable length (400); codings other than chunked are not
      // supported (501). Either way the connection cannot be reused.
      const std::string_view value(te->value().data(), te->value().size());
      request_start_ = std::chrono::steady_clock::now();
      operation_ = "_http";
      if (!parser_->chunked()) {
        WriteFault(http::status::bad_request,
                   Status(Fault::kSerialization,
                          "Transfer-Encoding '" + limits::CutToCharacters(value, 100) +
                              "' does not end in chunked: the request has no length"),
                   /*close=*/true);
        return;
      }
      if (!beast::iequals(beast::string_view(value.data(), value.size()), "chunked")) {
        WriteFault(http::status::not_implemented,
                   Status(Fault::kSerialization, "Transfer-Encoding '" +
                                                     limits::CutToCharacters(value, 100) +
                                                     "' is not supported: only chunked is"),
                   /*close=*/true);
        return;
      }
    }
    if (parser_->is_done()) {
      OnRequest();
      return;
    }
    auto expect = req[http::field::expect];
    if (beast::iequals(expect, "100-continue")) {
      continue_.emplace(http::status::continue_, req.version());
      stream_.expires_at(read_deadline_);
      http::async_write(stream_, *continue_,
                        [self = shared_from_this()](beast::error_code wec, std::size_t) {
                          if (wec) {
                            self->Close();
                            return;
                          }
                          self->ReadBody();
                        });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    stream_.expires_at(read_deadline_);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                       if (ec) {
                         self->OnReadError(ec);
                         return;
                       }
                       self->OnRequest();
                     });
  }

  void OnReadError(beast::error_code ec) {
    // The client left (or was too slow): nobody to answer.
    if (ec == http::error::end_of_stream || ec == http::error::partial_message ||
        ec == asio::error::eof || ec == asio::error::connection_reset ||
        ec == asio::error::operation_aborted || ec == beast::error::timeout) {
      if (ec == beast::error::timeout) spdlog::debug("closing a connection: read timed out");
      Close();
      return;
    }
    if (ec == http::error::body_limit) {
      // Only while reading a body (chunked); a Content-Length is checked in
      // OnHeader.
      RefuseOversize(0);
      return;
    }
    if (ec == http::error::header_limit) {
      request_start_ = std::chrono::steady_clock::now();
      operation_ = "_http";
      WriteFault(http::status::request_header_fields_too_large,
                 Status(Fault::kSerialization,
                        "Request headers exceed " + std::to_string(kHeaderLimit) + " bytes"),
                 /*close=*/true);
      return;
    }
    request_start_ = std::chrono::steady_clock::now();
    operation_ = "_http";
    WriteFault(http::status::bad_request,
               Status(Fault::kSerialization, "Malformed HTTP request: " + ec.message()),
               /*close=*/true);
  }

  // The largest body a request may have: max_body_bytes, or for PutPayload
  // room for a payload of kMaxPayloadBytes as a JSON string (each byte of
  // JSON text is at most two once escaped).
  std::size_t BodyLimit(const http::request<http::string_body>& req) const {
    const std::size_t limit = server_.options().max_body_bytes;
    auto target = req.find("X-Amz-Target");
    if (target == req.end()) return limit;
    const std::string_view value(target->value().data(), target->value().size());
    if (value.substr(0, protocol::kGarconTargetPrefix.size()) == protocol::kGarconTargetPrefix &&
        value.substr(protocol::kGarconTargetPrefix.size()) == "PutPayload") {
      return std::max(limit, 2 * protocol::kMaxPayloadBytes + 64 * 1024);
    }
    return limit;
  }

  void RefuseOversize(std::uint64_t length) {
    request_start_ = std::chrono::steady_clock::now();
    operation_ = "_http";
    std::string what =
        length > 0 ? "Request body of " + std::to_string(length) + " bytes" : "Request body";
    WriteFault(http::status::payload_too_large,
               Status(Fault::kValidation, what + " exceeds the limit of " +
                                              std::to_string(BodyLimit(parser_->get())) + " bytes"),
               /*close=*/true);
  }

  // --- handling -----------------------------------------------------------

  void OnRequest() {
    state_ = State::kHandling;
    stream_.expires_never();
    auto& req = parser_->get();
    keep_alive_ = req.keep_alive();
    version_ = req.version();
    request_id_ = NewRequestId();
    std::string_view target(req.target().data(), req.target().size());
    std::string_view path = target.substr(0, target.find('?'));
    if (req.method() == http::verb::get && path == "/") {
      operation_ = "_console";
      auto res = MakeResponse(http::status::found, "The console is at /console\n", "text/plain");
      res.set(http::field::location, "/console");
      Send(std::move(res), /*close=*/false);
      return;
    }
    if (req.method() == http::verb::get) {
      if (const console::Asset* asset = console::Find(path)) {
        ServeConsole(req, *asset);
        return;
      }
    }
    if (req.method() == http::verb::get && path == "/health") {
      operation_ = "_health";
      Write(http::status::ok, R"({"status":"ok"})", "application/json");
      return;
    }
    if (req.method() == http::verb::get && path == "/metrics") {
      operation_ = "_metrics";
      Write(http::status::ok, server_.MetricsText(), "text/plain; version=0.0.4");
      return;
    }
    if (path != "/") {
      operation_ = "_http";
      WriteFault(http::status::not_found,
                 Status(Fault::kUnknownOperation,
                        "Not found: " + std::string(path) +
                            " (SWF operations are POST /; also GET /console, GET /health, "
                            "GET /metrics)"),
                 /*close=*/false);
      return;
    }
    if (req.method() != http::verb::post) {
      operation_ = "_http";
      WriteFault(http::status::method_not_allowed,
                 Status(Fault::kUnknownOperation,
                        "SWF operations are POST / with X-Amz-Target: "
                        "SimpleWorkflowService.<Operation>"),
                 /*close=*/false);
      return;
    }
    HandleSwf(req);
  }

  // A file of the web console: revalidated on each load (no-cache) against
  // its strong ETag, which changes with its bytes; only this origin may
  // serve the page anything (the CSP).
  void ServeConsole(const http::request<http::string_body>& req, const console::Asset& asset) {
    operation_ = "_console";
    const auto match = req[http::field::if_none_match];
    const bool fresh = std::string_view(match.data(), match.size()).find(asset.etag) !=
                       std::string_view::npos;
    auto res = MakeResponse(fresh ? http::status::not_modified : http::status::ok,
                            fresh ? std::string() : std::string(asset.body), asset.content_type);
    auto view = [](std::string_view v) { return beast::string_view(v.data(), v.size()); };
    res.set(http::field::etag, view(asset.etag));
    res.set(http::field::cache_control, "no-cache");
    res.set("Content-Security-Policy", view(console::kContentSecurityPolicy));
    res.set("X-Content-Type-Options", "nosniff");
    res.set("Referrer-Policy", "no-referrer");
    Send(std::move(res), /*close=*/false);
  }

  // A header's value ("" when absent); names are case-insensitive.
  static std::string_view HeaderValue(const http::request<http::string_body>& req,
                                      std::string_view name) {
    auto it = req.find(beast::string_view(name.data(), name.size()));
    if (it == req.end()) return {};
    return std::string_view(it->value().data(), it->value().size());
  }

  void HandleSwf(http::request<http::string_body>& req) {
    operation_ = "_unknown";
    if (!server_.options().credentials.empty()) {
      // The signature covers the method, path, query, headers and body.
      std::string_view target(req.target().data(), req.target().size());
      const std::size_t q = target.find('?');
      sigv4::Request signed_request;
      signed_request.method = std::string(req.method_string());
      signed_request.path = std::string(target.substr(0, q));
      if (q != std::string_view::npos) signed_request.query = std::string(target.substr(q + 1));
      for (const auto& field : req) {
        signed_request.headers.emplace_back(std::string(field.name_string()),
                                            std::string(field.value()));
      }
      signed_request.body = std::move(req.body());
      sigv4::VerifyOptions verify;
      verify.now = server_.options().clock->Now();
      verify.max_skew = server_.options().max_clock_skew;
      Result<std::string> who = sigv4::Verify(
          signed_request, [this](std::string_view key) { return server_.Secret(key); }, verify);
      if (!who.ok()) {
        spdlog::info("refused a request: {}", who.status().ToString().substr(0, 200));
        WriteFault(who.status());
        return;
      }
      req.body() = std::move(signed_request.body);
    } else {
      // Unsigned use: the access key is logged once per key (the server's
      // set), looked up only when this connection's key changes.
      std::string access_key = sigv4::AccessKeyIdOf(HeaderValue(req, "Authorization"));
      if (!access_key_logged_ || access_key != last_access_key_) {
        server_.LogAccessKey(access_key);
        last_access_key_ = std::move(access_key);
        access_key_logged_ = true;
      }
    }

    Result<std::string> operation = OperationFromTarget(HeaderValue(req, "X-Amz-Target"));
    if (!operation.ok()) {
      WriteFault(operation.status());
      return;
    }
    operation_ = std::move(*operation);
    Result<Json> body = ParseRequestBody(req.body());
    if (!body.ok()) {
      WriteFault(body.status());
      return;
    }

    answered_ = false;
    poll_held_ = false;
    client_gone_ = false;
    // The token lives as long as the engine holds the callback: Stop waits
    // for every token to go before the io_context (which the callback posts
    // to) is destroyed. The callback's hold on this session is let go before
    // its token (PendingCall's members go in reverse order), so an engine
    // thread dropping a callback never destroys a session after Stop.
    auto pending = std::make_shared<PendingCall>(&server_, shared_from_this());
    immediate_.reset();
    t_calling_session = this;
    try {
      call_id_ = server_.engine().CallAsync(operation_, *body, [pending](Result<Json> result) {
        std::shared_ptr<Session> self = pending->self;
        if (t_calling_session == self.get()) {
          // Answered within CallAsync, on this thread and strand: taken up
          // when CallAsync returns, without a trip through the scheduler
          // (which could hand it to another thread).
          self->immediate_.emplace(std::move(result));
          return;
        }
        asio::post(self->stream_.get_executor(), [self, result = std::move(result)]() mutable {
          self->OnEngineResult(std::move(result));
        });
      });
    } catch (const std::exception& e) {
      t_calling_session = nullptr;
      spdlog::error("{} {} threw: {}", request_id_, operation_, e.what());
      answered_ = true;
      WriteFault(InternalError("Internal error (request id " + request_id_ +
                               "); the server's log has the details"));
      return;
    }
    t_calling_session = nullptr;
    if (immediate_) {
      Result<Json> result = std::move(*immediate_);
      immediate_.reset();
      OnEngineResult(std::move(result));
      return;
    }
    // An answer that comes later runs after this handler (posted to this
    // strand), so the poll is registered before it is released.
    if (IsPoll(operation_)) {
      // A held poll keeps as little as possible: the request is done with.
      parser_.reset();
      if (buffer_.size() == 0) buffer_.shrink_to_fit();
      poll_held_ = true;
      server_.PollHeld(call_id_);
      if (server_.stopping()) {
        server_.engine().Cancel(call_id_);
      } else {
        WatchPeer();
      }
    }
  }

  // Keeps a read pending while a poll is held, to notice the peer leaving.
  void WatchPeer() {
    if (buffer_.size() >= kMaxPipelined) return;
    watching_ = true;
    stream_.expires_never();
    // A small side buffer: a held poll keeps only these bytes for reading.
    stream_.async_read_some(asio::buffer(watch_bytes_),
                            [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                              self->OnPeerActivity(ec, n);
                            });
  }

  void OnPeerActivity(beast::error_code ec, std::size_t n) {
    watching_ = false;
    if (n > 0) {
      auto dest = buffer_.prepare(n);
      asio::buffer_copy(dest, asio::buffer(watch_bytes_.data(), n));
      buffer_.commit(n);
    }
    if (answered_) {
      // Cancelled by OnEngineResult, or data raced the answer.
      if (ec && ec != asio::error::operation_aborted) client_gone_ = true;
      SendPending();
      return;
    }
    if (!ec) {
      WatchPeer();  // pipelined bytes: keep them, keep watching
      return;
    }
    // The client went away: withdraw the poll so no task is handed to it.
    spdlog::debug("client left during {} ({}); withdrawing the poll", operation_, ec.message());
    client_gone_ = true;
    server_.engine().Cancel(call_id_);
  }

  void OnEngineResult(Result<Json> result) {
    answered_ = true;
    if (poll_held_) server_.PollReleased(call_id_);
    if (client_gone_) {
      if (result.ok() && swf::HasTask(*result)) {
        spdlog::warn("{} answered with a task after its client left", operation_);
      }
      server_.metrics().CountRequest(operation_, 499, SecondsSince(request_start_));
      Close();
      return;
    }
    if (result.ok()) {
      pending_.emplace(MakeResponse(http::status::ok, ResponseBody(*result), kJsonContentType));
    } else {
      Status fault = result.status();
      if (fault.fault() == Fault::kInternalFailure) {
        // What failed inside (the store, a library) is for the operator's
        // log; the client learns that it was not its request's fault.
        spdlog::warn("{} {} failed: {}", request_id_, operation_, fault.message());
        fault = InternalError("Internal error (request id " + request_id_ +
                              "); the server's log has the details");
      }
      pending_.emplace(
          MakeFaultResponse(static_cast<http::status>(FaultHttpStatus(fault.fault())), fault));
    }
    if (watching_) {
      // OnPeerActivity sends it once the read is cancelled.
      beast::error_code ignored;
      stream_.socket().cancel(ignored);
      return;
    }
    SendPending();
  }

  void SendPending() {
    if (!pending_) return;
    if (client_gone_) {
      server_.metrics().CountRequest(operation_, 499, SecondsSince(request_start_));
      pending_.reset();
      Close();
      return;
    }
    auto response = std::move(*pending_);
    pending_.reset();
    Send(std::move(response), /*close=*/false);
  }

  // --- writing --------------------------------------------------------------

  http::response<http::string_body> MakeResponse(http::status status, std::string body,
                                                 std::string_view content_type) {
    http::response<http::string_body> res{status, version_};
    res.set(http::field::server, "garcon");
    res.set(http::field::content_type,
            beast::string_view(content_type.data(), content_type.size()));
    res.set("x-amzn-RequestId", request_id_.empty() ? NewRequestId() : request_id_);
    res.body() = std::move(body);
    return res;
  }

  http::response<http::string_body> MakeFaultResponse(http::status status, const Status& fault) {
    auto res = MakeResponse(status, FaultBody(fault), kJsonContentType);
    const std::string_view name = FaultName(fault.fault());
    res.set("x-amzn-ErrorType", beast::string_view(name.data(), name.size()));
    return res;
  }

  void Write(http::status status, std::string body, std::string_view content_type) {
    Send(MakeResponse(status, std::move(body), content_type), /*close=*/false);
  }

  void WriteFault(const Status& fault) {
    WriteFault(static_cast<http::status>(FaultHttpStatus(fault.fault())), fault,
               /*close=*/false);
  }

  void WriteFault(http::status status, const Status& fault, bool close) {
    Send(MakeFaultResponse(status, fault), close);
  }

  void Send(http::response<http::string_body> res, bool close) {
    close_after_write_ = close || !keep_alive_ || server_.stopping();
    res.keep_alive(!close_after_write_);
    res.prepare_payload();
    const double seconds = SecondsSince(request_start_);
    server_.metrics().CountRequest(operation_, static_cast<int>(res.result_int()), seconds);
    spdlog::debug("{} {} {} {:.3f} ms", request_id_.empty() ? "-" : request_id_, operation_,
                  res.result_int(), seconds * 1e3);
    response_ = std::move(res);
    state_ = State::kWriting;
    stream_.expires_after(server_.options().write_timeout);
    http::async_write(
        stream_, response_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->OnWrite(ec); });
  }

  void OnWrite(beast::error_code ec) {
    response_ = {};
    request_id_.clear();
    if (ec) {
      Close();
      return;
    }
    if (close_after_write_) {
      Linger();
      return;
    }
    ReadRequest();
  }

  // --- closing --------------------------------------------------------------

  // Half-closes, then reads and drops what the client still sends for a
  // moment, so that it reads our response rather than a connection reset.
  void Linger() {
    state_ = State::kLingering;
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    buffer_.consume(buffer_.size());
    stream_.expires_after(kLinger);
    Drain();
  }

  void Drain() {
    stream_.async_read_some(buffer_.prepare(16 * 1024),
                            [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                              self->drained_ += n;
                              if (ec || self->drained_ > kMaxLingerBytes) {
                                self->Close();
                                return;
                              }
                              self->Drain();
                            });
  }

  void Close() {
    if (state_ == State::kClosed) return;
    state_ = State::kClosed;
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

  HttpServerImpl& server_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::empty_body>> continue_;
  http::response<http::string_body> response_;
  std::optional<http::response<http::string_body>> pending_;
  State state_ = State::kIdle;
  std::chrono::steady_clock::time_point read_deadline_;
  std::chrono::steady_clock::time_point request_start_ = std::chrono::steady_clock::now();
  std::string request_id_;
  std::string operation_ = "_http";
  unsigned version_ = 11;
  std::array<char, 64> watch_bytes_{};
  bool keep_alive_ = true;
  bool close_after_write_ = false;
  std::size_t drained_ = 0;
  // The engine call of the current request.
  engine::Engine::CallId call_id_ = 0;
  bool poll_held_ = false;
  bool answered_ = true;
  bool watching_ = false;
  bool client_gone_ = false;
  std::atomic<bool> idle_{false};
  // The engine's answer when it came within CallAsync (see HandleSwf).
  std::optional<Result<Json>> immediate_;
  // The access key id of this connection's last unsigned request, once logged.
  std::string last_access_key_;
  bool access_key_logged_ = false;
};

// --- HttpServerImpl --------------------------------------------------------------

Status HttpServerImpl::Start() {
  if (started_.exchange(true)) return ValidationError("the server was already started");
  beast::error_code ec;
  const asio::ip::address address = asio::ip::make_address(options_.bind_address, ec);
  if (ec) {
    return ValidationError("bind address '" + options_.bind_address +
                           "' is not an IP address: " + ec.message());
  }
  if (options_.credentials.empty() && !address.is_loopback()) {
    if (!options_.insecure) {
      return ValidationError(
          "refusing to serve " + options_.bind_address +
          " without credentials: anyone reaching it could run and terminate workflows. "
          "Give --credentials FILE (SigV4 is then required), bind 127.0.0.1, or pass "
          "--insecure to serve without signatures on purpose");
    }
    spdlog::warn(
        "serving {} without credentials (--insecure): any client that reaches it can call "
        "every operation",
        options_.bind_address);
  }
  const tcp::endpoint endpoint(address, options_.port);
  acceptor_.emplace(asio::make_strand(ioc_));
  auto fail = [&](const char* what) {
    Status status(Fault::kServiceUnavailable,
                  std::string("cannot ") + what + " " + options_.bind_address + ":" +
                      std::to_string(options_.port) + ": " + ec.message());
    acceptor_.reset();
    return status;
  };
  acceptor_->open(endpoint.protocol(), ec);
  if (ec) return fail("open a socket for");
  acceptor_->set_option(asio::socket_base::reuse_address(true), ec);
  if (ec) return fail("set SO_REUSEADDR on");
  acceptor_->bind(endpoint, ec);
  if (ec) return fail("bind");
  acceptor_->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail("listen on");
  port_ = acceptor_->local_endpoint().port();
  FitConnectionCap();
  accept_retry_.emplace(acceptor_->get_executor());
  DoAccept();
  for (int i = 0; i < options_.threads; ++i) {
    threads_.emplace_back([this] {
      for (;;) {
        try {
          ioc_.run();
          return;
        } catch (const std::exception& e) {
          spdlog::error("server I/O thread: unexpected exception: {}", e.what());
        }
      }
    });
  }
  spdlog::info("garcon server listening on {}:{} ({} I/O thread{})", options_.bind_address,
               port_.load(), options_.threads, options_.threads == 1 ? "" : "s");
  return Status::Ok();
}

void HttpServerImpl::DoAccept() {
  acceptor_->async_accept(
      asio::make_strand(ioc_),
      [this](beast::error_code ec, tcp::socket socket) { OnAccept(ec, std::move(socket)); });
}

void HttpServerImpl::OnAccept(beast::error_code ec, tcp::socket socket) {
  if (stopping_ || !acceptor_->is_open()) return;
  if (ec) {
    if (ec == asio::error::operation_aborted) return;
    // E.g. out of file descriptors: back off instead of spinning.
    accept_errors_log_.Note([&](std::size_t n) {
      spdlog::warn("accepting a connection failed {} time(s) in the last {} s: {}", n,
                   kLogInterval.count(), ec.message());
    });
    accept_retry_->expires_after(std::chrono::milliseconds(100));
    accept_retry_->async_wait([this](beast::error_code wec) {
      if (!wec && !stopping_) DoAccept();
    });
    return;
  }
  bool full;
  {
    std::lock_guard<std::mutex> lock(mu_);
    full = sessions_.size() >= max_connections_;
  }
  if (full && !ReclaimIdle()) {
    Refuse(std::move(socket));
    DoAccept();
    return;
  }
  beast::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  std::make_shared<Session>(*this, std::move(socket))->Start();
  DoAccept();
}

bool HttpServerImpl::ReclaimIdle() {
  std::shared_ptr<Session> victim;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [ptr, weak] : sessions_) {
      if (!ptr->idle()) continue;
      if (auto s = weak.lock(); s && s->TakeIdle()) {
        victim = std::move(s);
        break;
      }
    }
  }
  if (!victim) return false;
  asio::post(victim->GetExecutor(), [victim] { victim->Reclaim(); });
  return true;
}

void HttpServerImpl::Refuse(tcp::socket socket) {
  metrics_.ConnectionRefused();
  refusals_log_.Note([&](std::size_t n) {
    spdlog::warn(
        "refused {} connection(s) in the last {} s: {} connections are open, none idle "
        "(the cap, --max-connections)",
        n, kLogInterval.count(), max_connections_);
  });
  // Best effort and never blocking: a fresh socket's send buffer holds it.
  static const std::string response = BusyResponse();
  beast::error_code ignored;
  socket.non_blocking(true, ignored);
  socket.write_some(asio::buffer(response), ignored);
  socket.shutdown(tcp::socket::shutdown_both, ignored);
  socket.close(ignored);
}

void HttpServerImpl::FitConnectionCap() {
  max_connections_ = std::max<std::size_t>(1, options_.max_connections);
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  const rlim_t want = static_cast<rlim_t>(max_connections_) + kReservedDescriptors;
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < want) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max == RLIM_INFINITY ? want : std::min(want, limit.rlim_max);
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < want) {
    const rlim_t room = limit.rlim_cur > 2 * kReservedDescriptors
                            ? limit.rlim_cur - kReservedDescriptors
                            : limit.rlim_cur / 2;
    max_connections_ = std::max<std::size_t>(1, static_cast<std::size_t>(room));
    spdlog::warn(
        "the open-file limit ({}) leaves room for {} connections, not the {} asked for: "
        "raise it (ulimit -n, LimitNOFILE=) to serve more",
        static_cast<unsigned long long>(limit.rlim_cur), max_connections_,
        options_.max_connections);
  }
}

void HttpServerImpl::Stop() {
  std::lock_guard<std::mutex> stop_lock(stop_mu_);
  if (!started_ || threads_.empty()) return;
  stopping_ = true;
  // 1. Stop accepting.
  std::promise<void> closed;
  asio::dispatch(acceptor_->get_executor(), [this, &closed] {
    beast::error_code ignored;
    acceptor_->close(ignored);
    accept_retry_->cancel();
    closed.set_value();
  });
  closed.get_future().wait();
  // 2. Close idle connections, answer held polls.
  std::vector<std::shared_ptr<Session>> live;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [ptr, weak] : sessions_) {
      if (auto s = weak.lock()) live.push_back(std::move(s));
    }
  }
  for (auto& s : live) {
    // Each session acts on its own strand.
    asio::post(s->GetExecutor(), [s] { s->OnServerStop(); });
  }
  live.clear();
  // 3. Let responses in progress finish.
  {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, options_.stop_grace, [this] { return sessions_.empty(); });
    if (!sessions_.empty()) {
      spdlog::info("closing {} connections still busy after the grace period", sessions_.size());
    }
  }
  ioc_.stop();
  for (auto& t : threads_) t.join();
  threads_.clear();
  // 4. Whatever poll is still held (its session was cut off) is withdrawn, and
  // every engine callback has posted before the io_context goes away.
  std::vector<engine::Engine::CallId> held;
  {
    std::lock_guard<std::mutex> lock(mu_);
    held.assign(held_polls_.begin(), held_polls_.end());
  }
  for (auto id : held) engine_.Cancel(id);
  {
    std::unique_lock<std::mutex> lock(mu_);
    while (
        !cv_.wait_for(lock, std::chrono::seconds(5), [this] { return callbacks_pending_ == 0; })) {
      spdlog::warn("waiting for {} engine calls to answer", callbacks_pending_);
    }
  }
  spdlog::info("garcon server stopped");
}

// --- HttpServer -------------------------------------------------------------------

HttpServer::HttpServer(engine::Engine& engine, ServerOptions options)
    : impl_(std::make_unique<HttpServerImpl>(engine, std::move(options))) {}

HttpServer::~HttpServer() = default;

Status HttpServer::Start() { return impl_->Start(); }
void HttpServer::Stop() { impl_->Stop(); }
std::uint16_t HttpServer::port() const { return impl_->port(); }
int HttpServer::threads() const { return impl_->threads(); }
std::string HttpServer::MetricsText() const { return impl_->MetricsText(); }

// --- credentials files ---------------------------------------------------------------

Result<std::map<std::string, std::string>> ReadCredentialsFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return UnknownResource("cannot read credentials file " + path);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return UnknownResource("cannot stat credentials file " + path);
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return ValidationError("credentials file " + path + " has mode " + mode +
                           ": its secrets must not be readable or writable by group or others "
                           "(chmod 600 " + path + ")");
  }
  std::map<std::string, std::string> out;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    std::istringstream fields(line);
    std::string key, secret, extra;
    if (!(fields >> key) || key[0] == '#') continue;
    if (!(fields >> secret) || (fields >> extra)) {
      return ValidationError(path + ":" + std::to_string(number) +
                             ": expected 'ACCESS_KEY_ID SECRET'");
    }
    if (!out.emplace(key, secret).second) {
      return ValidationError(path + ":" + std::to_string(number) + ": access key id '" + key +
                             "' appears twice");
    }
  }
  return out;
}

}  // namespace garcon::server
