#include "core/crypto.h"

#include <sodium.h>

#include <condition_variable>
#include <mutex>

namespace relais::core {
namespace {

PasswordParams g_params;

// Bounds the number of Argon2id computations in flight: each one holds
// mem_bytes of RAM, and running more than the cores at once only makes every
// login slower.
class HashGate {
 public:
  void Enter() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return running_ < g_params.max_concurrent; });
    ++running_;
  }
  void Leave() {
    {
      std::lock_guard lock(mu_);
      --running_;
    }
    cv_.notify_one();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int running_ = 0;
};
HashGate g_gate;

struct GateGuard {
  GateGuard() { g_gate.Enter(); }
  ~GateGuard() { g_gate.Leave(); }
};

}  // namespace

Status InitCrypto() {
  if (sodium_init() < 0) return Status::Internal("libsodium failed to initialise");
  return Status::Ok();
}

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  randombytes_buf(out.data(), n);
  return out;
}

std::string NewUuid() {
  unsigned char b[16];
  randombytes_buf(b, sizeof b);
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[b[i] >> 4]);
    out.push_back(kHex[b[i] & 15]);
  }
  return out;
}

bool IsUuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

std::string RandomToken(size_t n) {
  std::string raw = RandomBytes(n);
  std::string out(sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(raw.data()), n,
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out.resize(std::char_traits<char>::length(out.c_str()));
  sodium_memzero(raw.data(), raw.size());
  return out;
}

std::string ToHex(std::string_view bytes) {
  std::string out(bytes.size() * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  out.pop_back();
  return out;
}

std::string Sha256(std::string_view data) {
  std::string out(crypto_hash_sha256_BYTES, '\0');
  crypto_hash_sha256(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(data.data()),
                     data.size());
  return out;
}

struct Sha256Stream::State {
  crypto_hash_sha256_state st;
};
Sha256Stream::Sha256Stream() : state_(new State) { crypto_hash_sha256_init(&state_->st); }
Sha256Stream::~Sha256Stream() = default;
void Sha256Stream::Update(std::string_view data) {
  crypto_hash_sha256_update(&state_->st, reinterpret_cast<const unsigned char*>(data.data()), data.size());
}
std::string Sha256Stream::FinishHex() {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(&state_->st, digest);
  return ToHex(std::string_view(reinterpret_cast<char*>(digest), sizeof digest));
}

bool ConstantTimeEqual(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

void SetPasswordParams(const PasswordParams& params) { g_params = params; }
const PasswordParams& GetPasswordParams() { return g_params; }

Result<std::string> HashPassword(std::string_view password) {
  char out[crypto_pwhash_STRBYTES];
  GateGuard gate;
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), g_params.ops, g_params.mem_bytes,
                            crypto_pwhash_ALG_ARGON2ID13) != 0)
    return Status::Internal("out of memory while hashing a password");
  return std::string(out);
}

bool VerifyPassword(std::string_view encoded, std::string_view password) {
  std::string enc(encoded);  // needs a NUL-terminated string
  if (enc.rfind("$argon2id$", 0) != 0) return false;
  GateGuard gate;
  return crypto_pwhash_str_verify(enc.c_str(), password.data(), password.size()) == 0;
}

bool PasswordNeedsRehash(std::string_view encoded) {
  std::string enc(encoded);
  return crypto_pwhash_str_needs_rehash(enc.c_str(), g_params.ops, g_params.mem_bytes) != 0;
}

}  // namespace relais::core
