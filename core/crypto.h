// core/crypto.h — the only module that includes sodium.h.
//
// Random identifiers, SHA-256 (one-shot and streaming), Argon2id password
// hashing with a bound on how many hashes run at once, constant-time compare,
// and the public-key and symmetric building blocks of sync: Ed25519 signatures,
// X25519 sealed boxes, XChaCha20-Poly1305 secret streams and AEAD.
// Keys are fixed-size byte arrays so that no libsodium type leaks out of here;
// secret keys wipe themselves when destroyed.
// Thread-safe after InitCrypto() succeeded (each stream object is used by one
// thread at a time).
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

namespace relais::core {

// Must be called once before anything else here. Idempotent.
Status InitCrypto();

std::string RandomBytes(size_t n);
// A random RFC 4122 version-4 UUID, lower-case with dashes.
std::string NewUuid();
// A UUID derived from a natural key (RFC 9562 version 8, from the SHA-256 of
// `kind` and `parts`): two replicas that create "the same" row (a student's
// submission for a homework) give it the same id, so their copies merge.
std::string DerivedUuid(std::string_view kind, std::initializer_list<std::string_view> parts);
// `n` random bytes, URL-safe base64 without padding (for session tokens, codes).
std::string RandomToken(size_t n = 32);
// True for a lower-case canonical UUID string.
bool IsUuid(std::string_view s);

std::string ToHex(std::string_view bytes);
std::string Sha256(std::string_view data);  // raw 32 bytes

// Incremental SHA-256 for streamed uploads.
class Sha256Stream {
 public:
  Sha256Stream();
  ~Sha256Stream();
  void Update(std::string_view data);
  std::string FinishHex();  // 64 hex characters; the object is then spent
  std::string Finish();     // raw 32 bytes; the object is then spent

 private:
  struct State;
  std::unique_ptr<State> state_;
};

bool ConstantTimeEqual(std::string_view a, std::string_view b);

struct PasswordParams {
  uint64_t ops = 2;              // Argon2id passes
  size_t mem_bytes = 19u << 20;  // 19 MiB (OWASP's minimum for Argon2id)
  int max_concurrent = 2;        // hashes computed at once, box-wide
};

// Configures the cost and the concurrency bound. Call at start-up, before any hashing.
void SetPasswordParams(const PasswordParams& params);
const PasswordParams& GetPasswordParams();

// Returns the encoded "$argon2id$v=19$m=…" string. Blocks while
// max_concurrent hashes are already running.
Result<std::string> HashPassword(std::string_view password);
// True when `password` matches `encoded`. Same concurrency bound.
bool VerifyPassword(std::string_view encoded, std::string_view password);
// True when `encoded` was made with weaker parameters than the current ones.
bool PasswordNeedsRehash(std::string_view encoded);

// ---------------------------------------------------------------------------
// Keys and secrets. The sizes are libsodium's (checked by static_assert in
// crypto.cc); they are part of Relais's byte formats and never change.

inline constexpr size_t kSignPublicKeyBytes = 32;   // Ed25519
inline constexpr size_t kSignSecretKeyBytes = 64;   // Ed25519 seed ‖ public key
inline constexpr size_t kSignatureBytes = 64;       // Ed25519, detached
inline constexpr size_t kBoxPublicKeyBytes = 32;    // X25519
inline constexpr size_t kBoxSecretKeyBytes = 32;    // X25519
inline constexpr size_t kSealOverheadBytes = 48;    // crypto_box_seal: ephemeral key + MAC
inline constexpr size_t kSymmetricKeyBytes = 32;    // secretstream and AEAD keys
inline constexpr size_t kStreamHeaderBytes = 24;    // crypto_secretstream_xchacha20poly1305 header
inline constexpr size_t kStreamOverheadBytes = 17;  // per secretstream message: tag byte + MAC
inline constexpr size_t kAeadNonceBytes = 24;       // XChaCha20-Poly1305-IETF
inline constexpr size_t kAeadOverheadBytes = 16;    // MAC
inline constexpr size_t kSha256Bytes = 32;

// Overwrites `n` bytes at `p` with zeros in a way the compiler keeps.
void SecureWipe(void* p, size_t n);
inline void SecureWipe(std::string& s) { SecureWipe(s.data(), s.size()); }

// A secret of N bytes, wiped on destruction and on move-from.
template <size_t N>
class SecretBytes {
 public:
  SecretBytes() { bytes_.fill(0); }
  SecretBytes(const SecretBytes& o) : bytes_(o.bytes_) {}
  SecretBytes& operator=(const SecretBytes& o) {
    bytes_ = o.bytes_;
    return *this;
  }
  ~SecretBytes() { SecureWipe(bytes_.data(), N); }
  uint8_t* data() { return bytes_.data(); }
  const uint8_t* data() const { return bytes_.data(); }
  static constexpr size_t size() { return N; }
  std::string_view view() const { return {reinterpret_cast<const char*>(bytes_.data()), N}; }

 private:
  std::array<uint8_t, N> bytes_;
};

using SignPublicKey = std::array<uint8_t, kSignPublicKeyBytes>;
using SignSecretKey = SecretBytes<kSignSecretKeyBytes>;
using Signature = std::array<uint8_t, kSignatureBytes>;
using BoxPublicKey = std::array<uint8_t, kBoxPublicKeyBytes>;
using BoxSecretKey = SecretBytes<kBoxSecretKeyBytes>;
using SymmetricKey = SecretBytes<kSymmetricKeyBytes>;

template <size_t N>
std::string_view AsView(const std::array<uint8_t, N>& a) {
  return {reinterpret_cast<const char*>(a.data()), N};
}
// Copies `bytes` into an array; false (array untouched) if the size differs.
template <size_t N>
bool CopyTo(std::string_view bytes, std::array<uint8_t, N>* out) {
  if (bytes.size() != N) return false;
  for (size_t i = 0; i < N; ++i) (*out)[i] = static_cast<uint8_t>(bytes[i]);
  return true;
}
template <size_t N>
bool CopyTo(std::string_view bytes, SecretBytes<N>* out) {
  if (bytes.size() != N) return false;
  for (size_t i = 0; i < N; ++i) out->data()[i] = static_cast<uint8_t>(bytes[i]);
  return true;
}

struct SignKeyPair {
  SignPublicKey public_key;
  SignSecretKey secret_key;
};
struct BoxKeyPair {
  BoxPublicKey public_key;
  BoxSecretKey secret_key;
};

SignKeyPair NewSignKeyPair();
BoxKeyPair NewBoxKeyPair();
SymmetricKey NewSymmetricKey();

// Ed25519 detached signature of `message`.
Signature Sign(const SignSecretKey& key, std::string_view message);
// True when `signature` is `key`'s signature of `message`.
bool VerifySignature(const SignPublicKey& key, std::string_view message, const Signature& signature);

// HMAC-SHA-256 of `message` under `key` (any length), 32 raw bytes.
std::string HmacSha256(std::string_view key, std::string_view message);

// Anonymous public-key encryption (crypto_box_seal): returns
// plaintext.size() + kSealOverheadBytes bytes only `recipient` can open.
std::string SealTo(const BoxPublicKey& recipient, std::string_view plaintext);
// Corruption if `sealed` was not made for `keys` or was altered.
Result<std::string> OpenSealed(const BoxKeyPair& keys, std::string_view sealed);

// XChaCha20-Poly1305-IETF with a caller-chosen nonce. Returns
// plaintext.size() + kAeadOverheadBytes bytes.
std::string AeadEncrypt(const SymmetricKey& key, std::string_view nonce, std::string_view plaintext,
                        std::string_view additional_data);
// Corruption if the ciphertext, nonce or additional data were altered.
Result<std::string> AeadDecrypt(const SymmetricKey& key, std::string_view nonce, std::string_view ciphertext,
                                std::string_view additional_data);

// The sending half of crypto_secretstream_xchacha20poly1305. Messages are
// authenticated in order: a reader detects any dropped, duplicated, reordered
// or altered message, and (with `final`) truncation after the last one.
class SecretStreamPush {
 public:
  // Starts a stream; header() is what the reader needs (kStreamHeaderBytes).
  explicit SecretStreamPush(const SymmetricKey& key);
  ~SecretStreamPush();
  const std::string& header() const { return header_; }
  // Appends message.size() + kStreamOverheadBytes bytes to `out`. `final`
  // marks the last message (TAG_FINAL).
  void Push(std::string_view message, std::string_view additional_data, bool final, std::string* out);

 private:
  struct State;
  std::unique_ptr<State> state_;
  std::string header_;
};

// The receiving half.
class SecretStreamPull {
 public:
  // Corruption if `header` is not kStreamHeaderBytes long or is refused.
  static Result<std::unique_ptr<SecretStreamPull>> Create(const SymmetricKey& key, std::string_view header);
  ~SecretStreamPull();
  // Decrypts one message into `out` (replaced). Corruption if it fails to
  // authenticate. Sets *final when the message carried TAG_FINAL.
  Status Pull(std::string_view ciphertext, std::string_view additional_data, std::string* out, bool* final);

 private:
  SecretStreamPull();
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace relais::core
