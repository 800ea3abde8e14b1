#include "core/crypto.h"

#include <sodium.h>

#include <cassert>
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

namespace {
std::string FormatUuid(unsigned char* b, unsigned version) {
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | (version << 4));
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
}  // namespace

std::string NewUuid() {
  unsigned char b[16];
  randombytes_buf(b, sizeof b);
  return FormatUuid(b, 4);
}

std::string DerivedUuid(std::string_view kind, std::initializer_list<std::string_view> parts) {
  std::string input = std::string("relais-id\n").append(kind);
  for (std::string_view part : parts) {
    input.push_back('\0');
    input.append(part);
  }
  std::string digest = Sha256(input);
  return FormatUuid(reinterpret_cast<unsigned char*>(digest.data()), 8);
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
std::string Sha256Stream::FinishHex() { return ToHex(Finish()); }
std::string Sha256Stream::Finish() {
  std::string digest(crypto_hash_sha256_BYTES, '\0');
  crypto_hash_sha256_final(&state_->st, reinterpret_cast<unsigned char*>(digest.data()));
  return digest;
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

// ---------------------------------------------------------------------------
// Sync building blocks.

static_assert(kSignPublicKeyBytes == crypto_sign_PUBLICKEYBYTES);
static_assert(kSignSecretKeyBytes == crypto_sign_SECRETKEYBYTES);
static_assert(kSignatureBytes == crypto_sign_BYTES);
static_assert(kBoxPublicKeyBytes == crypto_box_PUBLICKEYBYTES);
static_assert(kBoxSecretKeyBytes == crypto_box_SECRETKEYBYTES);
static_assert(kSealOverheadBytes == crypto_box_SEALBYTES);
static_assert(kSymmetricKeyBytes == crypto_secretstream_xchacha20poly1305_KEYBYTES);
static_assert(kSymmetricKeyBytes == crypto_aead_xchacha20poly1305_ietf_KEYBYTES);
static_assert(kStreamHeaderBytes == crypto_secretstream_xchacha20poly1305_HEADERBYTES);
static_assert(kStreamOverheadBytes == crypto_secretstream_xchacha20poly1305_ABYTES);
static_assert(kAeadNonceBytes == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
static_assert(kAeadOverheadBytes == crypto_aead_xchacha20poly1305_ietf_ABYTES);
static_assert(kSha256Bytes == crypto_hash_sha256_BYTES);

namespace {
const unsigned char* U(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }
unsigned char* U(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }
}  // namespace

void SecureWipe(void* p, size_t n) { sodium_memzero(p, n); }

SignKeyPair NewSignKeyPair() {
  SignKeyPair kp;
  crypto_sign_keypair(kp.public_key.data(), kp.secret_key.data());
  return kp;
}

BoxKeyPair NewBoxKeyPair() {
  BoxKeyPair kp;
  crypto_box_keypair(kp.public_key.data(), kp.secret_key.data());
  return kp;
}

SymmetricKey NewSymmetricKey() {
  SymmetricKey key;
  randombytes_buf(key.data(), key.size());
  return key;
}

Signature Sign(const SignSecretKey& key, std::string_view message) {
  Signature sig;
  crypto_sign_detached(sig.data(), nullptr, U(message), message.size(), key.data());
  return sig;
}

bool VerifySignature(const SignPublicKey& key, std::string_view message, const Signature& signature) {
  return crypto_sign_verify_detached(signature.data(), U(message), message.size(), key.data()) == 0;
}

std::string HmacSha256(std::string_view key, std::string_view message) {
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, U(key), key.size());
  crypto_auth_hmacsha256_update(&st, U(message), message.size());
  std::string out(crypto_auth_hmacsha256_BYTES, '\0');
  crypto_auth_hmacsha256_final(&st, U(out));
  sodium_memzero(&st, sizeof st);
  return out;
}

std::string SealTo(const BoxPublicKey& recipient, std::string_view plaintext) {
  std::string out(plaintext.size() + crypto_box_SEALBYTES, '\0');
  crypto_box_seal(U(out), U(plaintext), plaintext.size(), recipient.data());
  return out;
}

Result<std::string> OpenSealed(const BoxKeyPair& keys, std::string_view sealed) {
  if (sealed.size() < crypto_box_SEALBYTES) return Status::Corruption("sealed box too short");
  std::string out(sealed.size() - crypto_box_SEALBYTES, '\0');
  if (crypto_box_seal_open(U(out), U(sealed), sealed.size(), keys.public_key.data(), keys.secret_key.data()) != 0) {
    SecureWipe(out);
    return Status::Corruption("sealed box does not open with this key");
  }
  return out;
}

std::string AeadEncrypt(const SymmetricKey& key, std::string_view nonce, std::string_view plaintext,
                        std::string_view additional_data) {
  assert(nonce.size() == kAeadNonceBytes);
  std::string out(plaintext.size() + kAeadOverheadBytes, '\0');
  unsigned long long len = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(U(out), &len, U(plaintext), plaintext.size(), U(additional_data),
                                             additional_data.size(), nullptr, U(nonce), key.data());
  out.resize(len);
  return out;
}

Result<std::string> AeadDecrypt(const SymmetricKey& key, std::string_view nonce, std::string_view ciphertext,
                                std::string_view additional_data) {
  if (nonce.size() != kAeadNonceBytes) return Status::Corruption("bad AEAD nonce size");
  if (ciphertext.size() < kAeadOverheadBytes) return Status::Corruption("AEAD ciphertext too short");
  std::string out(ciphertext.size() - kAeadOverheadBytes, '\0');
  unsigned long long len = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(U(out), &len, nullptr, U(ciphertext), ciphertext.size(),
                                                 U(additional_data), additional_data.size(), U(nonce),
                                                 key.data()) != 0) {
    return Status::Corruption("AEAD ciphertext fails to authenticate");
  }
  out.resize(len);
  return out;
}

struct SecretStreamPush::State {
  crypto_secretstream_xchacha20poly1305_state st;
  ~State() { sodium_memzero(&st, sizeof st); }
};

SecretStreamPush::SecretStreamPush(const SymmetricKey& key)
    : state_(new State), header_(crypto_secretstream_xchacha20poly1305_HEADERBYTES, '\0') {
  crypto_secretstream_xchacha20poly1305_init_push(&state_->st, U(header_), key.data());
}
SecretStreamPush::~SecretStreamPush() = default;

void SecretStreamPush::Push(std::string_view message, std::string_view additional_data, bool final, std::string* out) {
  size_t at = out->size();
  out->resize(at + message.size() + crypto_secretstream_xchacha20poly1305_ABYTES);
  unsigned long long len = 0;
  crypto_secretstream_xchacha20poly1305_push(
      &state_->st, reinterpret_cast<unsigned char*>(out->data() + at), &len, U(message), message.size(),
      U(additional_data), additional_data.size(),
      final ? crypto_secretstream_xchacha20poly1305_TAG_FINAL : crypto_secretstream_xchacha20poly1305_TAG_MESSAGE);
  out->resize(at + len);
}

struct SecretStreamPull::State {
  crypto_secretstream_xchacha20poly1305_state st;
  ~State() { sodium_memzero(&st, sizeof st); }
};

SecretStreamPull::SecretStreamPull() : state_(new State) {}
SecretStreamPull::~SecretStreamPull() = default;

Result<std::unique_ptr<SecretStreamPull>> SecretStreamPull::Create(const SymmetricKey& key, std::string_view header) {
  if (header.size() != crypto_secretstream_xchacha20poly1305_HEADERBYTES)
    return Status::Corruption("bad secret stream header size");
  std::unique_ptr<SecretStreamPull> pull(new SecretStreamPull);
  if (crypto_secretstream_xchacha20poly1305_init_pull(&pull->state_->st, U(header), key.data()) != 0)
    return Status::Corruption("secret stream header refused");
  return pull;
}

Status SecretStreamPull::Pull(std::string_view ciphertext, std::string_view additional_data, std::string* out,
                              bool* final) {
  if (ciphertext.size() < crypto_secretstream_xchacha20poly1305_ABYTES)
    return Status::Corruption("secret stream message too short");
  out->resize(ciphertext.size() - crypto_secretstream_xchacha20poly1305_ABYTES);
  unsigned long long len = 0;
  unsigned char tag = 0;
  if (crypto_secretstream_xchacha20poly1305_pull(&state_->st, U(*out), &len, &tag, U(ciphertext), ciphertext.size(),
                                                 U(additional_data), additional_data.size()) != 0) {
    out->clear();
    return Status::Corruption("secret stream message fails to authenticate");
  }
  out->resize(len);
  *final = tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL;
  return Status::Ok();
}

}  // namespace relais::core
