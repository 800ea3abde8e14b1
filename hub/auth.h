// hub/auth.h — the gateway's check of a box's signed request
// (sync/request_signing.h holds the rule both sides share).
#pragma once

#include <cstdint>
#include <string_view>

#include "core/status.h"
#include "hub/store.h"
#include "sync/request_signing.h"

namespace relais::hub {

// Checks a request's headers against the stored box. Unauthenticated for a
// missing or malformed header, an unknown box, a bad signature or a time too
// far from `now`; PermissionDenied for a revoked box.
Result<HubBox> VerifyRequest(HubStore& store, std::string_view method, std::string_view target,
                             std::string_view box_header, std::string_view time_header,
                             std::string_view signature_header, std::string_view upload_offset, int64_t now);

}  // namespace relais::hub
