// sync/statement.h — a box's signed statement of what it holds, carried on a
// USB stick so the gateway knows what to answer (docs/sync-format.md, "USB").
//
// The statement is JSON: {"box", "school", "time", "vector": {origin: seq},
// "files": {"have": [...], "want": [...]}}, signed with the box's Ed25519 key
// over "relais-box-statement-v1\n" followed by the JSON text.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "content/journal.h"
#include "core/status.h"
#include "sync/file_news.h"
#include "sync/identity.h"

namespace relais::sync {

// The statement's JSON and its signature (hex).
struct Statement {
  std::string json;
  std::string signature_hex;
};

// The statement of box `box_id` (holding `held` and `files`) for its school.
Statement SignStatement(const Identity& box, std::string_view box_id, std::string_view school_id, int64_t now,
                        const content::VersionVector& held, const FileNews& files);

// Gateway side: checks `signature_hex` over `json` with the box's signing key
// (raw 32 bytes) and returns its vector, and its file news in `files` when
// given. PermissionDenied for a bad signature or another school, Corruption
// for malformed JSON.
Result<content::VersionVector> VerifyStatement(std::string_view json, std::string_view signature_hex,
                                               std::string_view sign_public_key, std::string_view school_id,
                                               FileNews* files = nullptr);

}  // namespace relais::sync
