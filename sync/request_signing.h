// sync/request_signing.h — how a box signs its HTTP requests to the gateway,
// and how the gateway reads the signature (both sides of one rule).
//
// Every box request carries three headers:
//   Relais-Box:        the box id (hex key id of its Ed25519 signing key)
//   Relais-Time:       Unix seconds on the gateway's clock as the box knows it
//                      (the box corrects its own clock with the time the
//                      gateway returns in every answer; a Pi has no RTC)
//   Relais-Signature:  hex Ed25519 signature of RequestMessage(...)
// The message binds the method, the path with its query, the time and the
// Upload-Offset header (so a captured PATCH cannot be replayed at another
// offset). Bodies are not covered: bundles and chunks carry their own
// signatures and hashes, and the link is TLS. The gateway accepts a time
// within kRequestSkewSeconds of its own. docs/hub-api.md, "Authentication".
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "core/crypto.h"
#include "core/status.h"
#include "sync/identity.h"

namespace relais::sync {

inline constexpr int64_t kRequestSkewSeconds = 600;

std::string RequestMessage(std::string_view method, std::string_view target, int64_t time,
                           std::string_view upload_offset);

// The three headers for a request signed by `box`.
std::map<std::string, std::string> SignRequest(const Identity& box, std::string_view method, std::string_view target,
                                               int64_t time, std::string_view upload_offset = "");

// The signature headers of a request, read but not yet checked against a key.
struct SignedRequest {
  std::string box_id;
  int64_t time = 0;
  core::Signature signature{};
};

// Reads the three headers. Unauthenticated for a missing or malformed header
// or a time further than kRequestSkewSeconds from `now`.
Result<SignedRequest> ReadRequestSignature(std::string_view box_header, std::string_view time_header,
                                           std::string_view signature_header, int64_t now);

// Whether `signed_request` is `key`'s signature of this request.
bool VerifyRequestSignature(const core::SignPublicKey& key, const SignedRequest& signed_request,
                            std::string_view method, std::string_view target, std::string_view upload_offset);

// What a box signs to tell the gateway its new encryption key (POST
// /hub/v1/box-key): "relais-box-key-v1\n" box id "\n" hex key "\n" epoch.
std::string BoxKeyMessage(std::string_view box_id, std::string_view key_hex, int64_t epoch);

// Lower-case hex to bytes; false on bad input.
bool DecodeHex(std::string_view hex, std::string* out);

}  // namespace relais::sync
