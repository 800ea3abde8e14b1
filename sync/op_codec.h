// sync/op_codec.h — the byte encoding of one change-journal operation: the
// record that bundles carry (docs/sync-format.md, "Operation records").
// Pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "content/journal.h"
#include "core/status.h"

namespace relais::sync {

// The record of `op`. Canonical: equal operations give equal bytes.
std::string EncodeOp(const content::Op& op);

// Reads one record. Returns Corruption for a truncated, malformed or
// trailing-garbage record, and InvalidArgument for a version other than
// kOpRecordVersion (saying whether it is newer than this program). Never
// reads out of bounds.
Result<content::Op> DecodeOp(std::string_view record);

}  // namespace relais::sync
