// sync/op_format.h — constants of the operation record encoding, shared by
// the encoder and the decoder (docs/sync-format.md, "Operation records").
#pragma once

#include <cstdint>

namespace relais::sync {

// Version 1 of the operation record. A reader refuses other versions.
constexpr uint8_t kOpRecordVersion = 1;

// Value tags.
constexpr uint8_t kValueNull = 0;
constexpr uint8_t kValueInt = 1;   // zigzag LEB128 varint
constexpr uint8_t kValueReal = 2;  // IEEE 754 binary64, little-endian
constexpr uint8_t kValueText = 3;  // LEB128 length, UTF-8 bytes
constexpr uint8_t kValueUuid = 4;  // 16 bytes: a text value that is a canonical lower-case UUID

// Bounds a reader enforces (far above anything the schema produces).
constexpr uint64_t kMaxNameLength = 64;
constexpr uint64_t kMaxKeyValues = 8;
constexpr uint64_t kMaxColumns = 64;
constexpr uint64_t kMaxTextLength = 16u << 20;

}  // namespace relais::sync
