// Payloads past SWF's limits. SWF caps an input, a result, a context or
// details at 32,768 characters; a flow's data often is larger (a fan-out's
// results, a document). Such a value is stored outside the history and the
// history holds a small reference to it instead:
//   {"garcon.payload":"<locator>","characters":<n>}
// The flow decider and the activity worker store and resolve them on their
// own; tasks see the values, never the references. docs/payloads.md.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "garcon/service.h"
#include "garcon/status.h"

namespace garcon {

// Where payloads go. Thread-safe. Payloads are immutable: a locator always
// gives the bytes that were put.
class PayloadStore {
 public:
  virtual ~PayloadStore() = default;
  // Stores `data` for `domain`; returns its locator (short, ASCII).
  virtual Result<std::string> Put(std::string_view domain, std::string_view data) = 0;
  // The bytes a Put returned `locator` for.
  virtual Result<std::string> Get(std::string_view domain, std::string_view locator) = 0;
};

// The engine's own store, through Garcon's PutPayload and GetPayload
// operations on `service`: the embedded engine, or `garcon server` through
// a client. Locators are "engine:<sha256>". Amazon SWF and other SWF
// servers do not have these operations: a put there fails with
// kUnknownOperation (use S3Payloads, garcon/client.h). `service` must
// outlive the store.
std::shared_ptr<PayloadStore> EnginePayloads(swf::Service& service);

// The largest payload, in bytes.
inline constexpr std::size_t kMaxPayloadBytes = std::size_t{16} << 20;

}  // namespace garcon
