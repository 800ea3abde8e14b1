// core/crypto.h — the only module that includes sodium.h.
//
// Random identifiers, SHA-256 (one-shot and streaming), Argon2id password
// hashing with a bound on how many hashes run at once, constant-time compare.
// Thread-safe after InitCrypto() succeeded.
#pragma once

#include <cstdint>
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

}  // namespace relais::core
