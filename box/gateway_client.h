// box/gateway_client.h — the box's client of the gateway's HTTP API
// (docs/hub-api.md), and one sync round over it. Used by `relais sync` and by
// `relais serve`'s automatic sync. docs/sync.md, "Running sync".
// Not thread-safe: one round at a time per box.
#pragma once

#include <httplib.h>

#include <cstdint>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "box/box_sync.h"
#include "box/gateway_tls.h"
#include "core/clock.h"
#include "core/status.h"
#include "sync/identity.h"

namespace relais::box {

// A gateway client: signed requests, the gateway's clock, clear errors.
class GatewayClient {
 public:
  // `box` signs requests; null for the unsigned ones (enrolment). `clock`
  // (the box's) must outlive the client. `tls` (may be null; must outlive
  // the client) explains a refused TLS key in Check(); the caller installs it
  // on client().
  GatewayClient(const std::string& url, const sync::Identity* box, const core::Clock& clock,
                const TlsPinCheck* tls = nullptr);

  // Learns the gateway's clock (a Pi has no real-time clock): its offset from `clock`.
  Status Connect();
  // The gateway's time now, read from `clock` plus the offset (the same clock
  // the offset was learnt against: std::time would disagree with a shifted
  // test clock, or after the box's clock was set).
  int64_t GatewayTime() const;

  // Headers signing METHOD TARGET (and the upload offset, if any).
  httplib::Headers Signed(const std::string& method, const std::string& target, const std::string& offset = "");

  // Ok for a 2xx; else an error naming `what` and the gateway's reason:
  // Unavailable-like Unauthenticated when it cannot be reached, PermissionDenied
  // for 403 or a TLS key that is not the pinned one, Unauthenticated for 401,
  // InvalidArgument otherwise.
  Status Check(const httplib::Result& res, const std::string& what);
  Result<nlohmann::json> JsonOf(const httplib::Result& res, const std::string& what);

  const std::string& url() const { return url_; }
  httplib::Client& client() { return client_; }

 private:
  std::string url_;
  httplib::Client client_;
  const sync::Identity* box_;
  const core::Clock& clock_;
  const TlsPinCheck* tls_;
  int64_t offset_ = 0;
};

// What a round did.
struct RoundReport {
  int64_t sent = 0;              // operations uploaded
  int64_t received = 0;          // operations in the gateway's answer
  int64_t new_ops = 0;           // of which new to this box
  int64_t chunks_sent = 0;       // file chunks uploaded (box/gateway_files.h)
  int64_t chunk_bytes_sent = 0;  // their sealed bytes
  int64_t chunks_fetched = 0;    // file chunks downloaded
};

// Lets another thread stop a round in flight (`relais serve` shutting down):
// Cancel() shuts the round's connection down and makes the round fail (an
// Internal "cancelled", or the cut connection's error). Thread-safe.
class RoundCanceller {
 public:
  void Cancel();
  bool cancelled() const;

 private:
  friend class CancelScope;
  mutable std::mutex mu_;
  bool cancelled_ = false;
  httplib::Client* client_ = nullptr;  // the round's, while it runs
};

// Progress lines ("Sending 5000 changes…"); may be empty.
using Progress = std::function<void(const std::string& line)>;

// One round with the gateway at `url` (checked against the box's
// DATA/sync/gateway-tls: the pinned TLS key or CA, plain http on loopback
// only; box/gateway_tls.h): uploads the operations it lacks
// (resumably), fetches and applies its answer, records the status. Errors
// leave nothing half-applied; the caller records the failure. The caller
// holds BoxSync::LockRound. `cancel` may be null.
Result<RoundReport> RunSyncRound(box::BoxSync& box, const std::string& url, const core::Clock& clock,
                                 const Progress& progress, RoundCanceller* cancel = nullptr);

}  // namespace relais::box
