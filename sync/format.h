// sync/format.h — the constants of every sync byte format, shared by their
// readers and writers. docs/sync-format.md describes each byte; change both
// together, and bump a version whenever a layout changes.
//
// All integers are little-endian. Times are Unix seconds (signed 64-bit).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/crypto.h"

namespace relais::sync {

// A key id: the first 16 bytes of SHA-256(public key).
inline constexpr size_t kKeyIdBytes = 16;
using KeyId = std::array<uint8_t, kKeyIdBytes>;
// A bundle id: 16 random bytes chosen by the writer.
inline constexpr size_t kBundleIdBytes = 16;
using BundleId = std::array<uint8_t, kBundleIdBytes>;

// A school scope (e.g. its UAI "0971234A"): 1 to 64 bytes of UTF-8.
inline constexpr size_t kMaxScopeBytes = 64;

// ---- Identity file (identity.key, mode 0600) ----
inline constexpr std::string_view kIdentityMagic{"RLS-IDEN", 8};
inline constexpr uint16_t kIdentityVersion = 1;
inline constexpr size_t kMaxBoxKeys = 64;  // epochs kept for bundles in transit

// ---- Trust file (trust: pinned gateway keys and the newest revocation list) ----
inline constexpr std::string_view kTrustMagic{"RLS-TRST", 8};
inline constexpr uint16_t kTrustVersion = 1;

// ---- Certificate ----
inline constexpr std::string_view kCertificateMagic{"RLS-CERT", 8};
inline constexpr uint16_t kCertificateVersion = 1;
enum class Role : uint8_t { kBox = 1, kGateway = 2 };

// ---- Revocation list ----
inline constexpr std::string_view kRevocationMagic{"RLS-REVO", 8};
inline constexpr uint16_t kRevocationVersion = 1;
inline constexpr uint32_t kMaxRevocations = 1u << 20;

// ---- Bundle envelope ----
inline constexpr std::string_view kBundleMagic{"RLS-BNDL", 8};
inline constexpr uint16_t kBundleVersion = 1;
// magic, version, header size, flags: enough to decide whether to read on.
inline constexpr size_t kBundlePrefixBytes = 8 + 2 + 2 + 2;
inline constexpr size_t kSealedKeyBytes = core::kSymmetricKeyBytes + core::kSealOverheadBytes;  // 80
// Plaintext bytes per secretstream message; the last message holds 0..this.
inline constexpr size_t kStreamMessageBytes = 64 * 1024;
inline constexpr size_t kStreamCipherBytes = kStreamMessageBytes + core::kStreamOverheadBytes;
inline constexpr std::string_view kTrailerMagic{"RLS-SIGN", 8};
// magic, record count, records bytes, ciphertext bytes, ciphertext SHA-256, signature.
inline constexpr size_t kTrailerBytes = 8 + 8 + 8 + 8 + core::kSha256Bytes + core::kSignatureBytes;  // 128
// A record inside the compressed payload: kind (u8), length (u32), bytes.
inline constexpr size_t kRecordHeaderBytes = 1 + 4;
inline constexpr uint32_t kMaxRecordBytes = 64u << 20;

// ---- File chunks and manifests ----
inline constexpr uint8_t kChunkVersion = 1;
// version (u8), nonce, AEAD ciphertext of the chunk.
inline constexpr size_t kChunkOverheadBytes = 1 + core::kAeadNonceBytes + core::kAeadOverheadBytes;
inline constexpr std::string_view kManifestMagic{"RLS-MANI", 8};
inline constexpr uint16_t kManifestVersion = 1;
inline constexpr uint32_t kMaxChunkBytes = 64u << 20;  // a reader's bound, above any sane max chunk size

// ---- Enrolment ----
// A code: 16 characters from this alphabet (80 bits), shown as XXXX-XXXX-XXXX-XXXX.
inline constexpr std::string_view kEnrolmentAlphabet{"ABCDEFGHJKLMNPQRSTUVWXYZ23456789", 32};
inline constexpr size_t kEnrolmentCodeChars = 16;
inline constexpr size_t kEnrolmentCodeIdBytes = 16;
inline constexpr std::string_view kEnrolmentRequestMagic{"RLS-ENRQ", 8};
inline constexpr std::string_view kEnrolmentResponseMagic{"RLS-ENRS", 8};
inline constexpr uint16_t kEnrolmentVersion = 1;
inline constexpr size_t kMacBytes = 32;  // HMAC-SHA-256

// ---- Record kinds reserved by the wire layer (the journal uses 0x00..0xEF) ----
inline constexpr uint8_t kRecordRevocationList = 0xF0;  // an encoded RevocationList
inline constexpr uint8_t kRecordManifest = 0xF1;        // an encoded Manifest
inline constexpr uint8_t kRecordCertificate = 0xF2;     // an encoded Certificate (e.g. a gateway's new key epoch)
inline constexpr uint8_t kRecordFileHeld = 0xF3;  // 32 bytes: a blob id whose chunks the gateway holds, all of them

}  // namespace relais::sync
