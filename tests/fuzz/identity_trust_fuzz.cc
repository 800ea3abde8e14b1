// tests/fuzz/identity_trust_fuzz.cc — the identity and trust files
// (sync/identity.h Identity::Load, sync/certificate.h TrustStore::Load,
// DecodeCertificate, DecodeRevocationList) and the enrolment messages
// (sync/enrolment.h), on any bytes.
//
// The first input byte picks the reader; the rest is its input:
//   0 identity file, 1 the same with a correct checksum appended (so the
//   fuzzer gets past it), 2 trust file, 3 the same with its checksum;
//   4 certificate, 5 revocation list, 6 enrolment request code id;
//   7..10 edits (fuzz_support.h Edit) to a valid signed certificate,
//   revocation list, enrolment request and enrolment response made at start-up.
// Oracles: a loaded identity or trust store saves back to the exact bytes
// read; a decoded certificate or revocation list re-encodes to the exact
// bytes; a changed signed structure never verifies (CheckCertificate,
// UpdateRevocations, AnswerEnrolment, AcceptEnrolment refuse it) while the
// unchanged one does.
#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <string>

#include "core/crypto.h"
#include "core/files.h"
#include "fuzz_support.h"
#include "sync/certificate.h"
#include "sync/enrolment.h"

using namespace relais;
using namespace relais::sync;
using relais::fuzzing::Check;

namespace {

constexpr int64_t kNow = 1764000000;

struct World {
  std::string dir;
  std::unique_ptr<Identity> gateway = Identity::Generate();
  std::unique_ptr<Identity> box = Identity::Generate();
  std::string identity_file, trust_file;  // real files, as saved
  std::string certificate, revocations;   // encoded, signed by the gateway
  std::string code, request, response;    // one enrolment
  EnrolmentCode pending;
  Certificate gateway_certificate;

  World() {
    if (!core::InitCrypto().ok()) std::abort();
    char tmpl[] = "/tmp/relais-identity-fuzz-XXXXXX";
    dir = mkdtemp(tmpl);
    box->RotateBoxKey();
    Check(box->Save(dir + "/identity").ok(), "a fresh identity saves");
    identity_file = *core::ReadFile(dir + "/identity");

    TrustStore trust;
    trust.Pin(gateway->sign_public_key());
    gateway_certificate = *MakeGatewayCertificate(*gateway, "rectorat", 1, kNow, kNow + 86400 * 365);
    (void)trust.AdoptGatewayCertificate(gateway_certificate);
    RevocationList list;
    list.version = 3;
    list.issued_at = kNow;
    list.entries.push_back({KeyIdOf(Identity::Generate()->sign_public_key()), kNow - 60});
    list.entries.push_back({KeyIdOf(Identity::Generate()->sign_public_key()), kNow - 30});
    SignRevocationList(*gateway, &list);
    revocations = EncodeRevocationList(list);
    (void)trust.UpdateRevocations(list);
    Check(trust.Save(dir + "/trust").ok(), "a trust store saves");
    trust_file = *core::ReadFile(dir + "/trust");

    certificate = EncodeCertificate(
        *IssueCertificate(*gateway, Role::kBox, "0330001A", 17, PublicKeysOf(*box), kNow, kNow + 86400 * 365));
    pending = *NewEnrolmentCode("0330001A", kNow, 7 * 86400);
    request = *MakeEnrolmentRequest(*box, pending.code, kNow);
    response =
        AnswerEnrolment(*gateway, gateway_certificate, pending.pending, request, 18, kNow, 86400 * 365, list)->response;
  }

  TrustStore Pinned() const {
    TrustStore t;
    t.Pin(gateway->sign_public_key());
    return t;
  }

  // Writes `bytes` to a mode-0600 file in the scratch folder.
  std::string Scratch(std::string_view bytes) const {
    std::string path = dir + "/input";
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    Check(fd >= 0 && ::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()),
          "the scratch file is written");
    ::close(fd);
    return path;
  }
};

World& TheWorld() {
  static World world;
  return world;
}

std::string WithChecksum(std::string_view body) { return std::string(body) + core::Sha256(body); }

void LoadIdentity(const World& w, std::string_view bytes) {
  auto id = Identity::Load(w.Scratch(bytes));
  if (!id.ok()) return;
  Check((*id)->Save(w.dir + "/saved").ok(), "a loaded identity saves");
  Check(*core::ReadFile(w.dir + "/saved") == bytes, "a loaded identity saves back to the bytes read");
}

void LoadTrust(const World& w, std::string_view bytes) {
  auto trust = TrustStore::Load(w.Scratch(bytes));
  if (!trust.ok()) return;
  Check(trust->Save(w.dir + "/saved").ok(), "a loaded trust store saves");
  Check(*core::ReadFile(w.dir + "/saved") == bytes, "a loaded trust store saves back to the bytes read");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (!std::getenv("RELAIS_FUZZ_SEEDS")) return 0;
  const World& w = TheWorld();
  auto body = [](const std::string& file) { return file.substr(0, file.size() - core::kSha256Bytes); };
  fuzzing::WriteSeedsIfAsked(
      {'\0' + w.identity_file, '\1' + body(w.identity_file), '\2' + w.trust_file, '\3' + body(w.trust_file),
       '\4' + w.certificate, '\5' + w.revocations, '\6' + w.request,
       // Edits: none (the valid structure), then one byte changed near the start, middle and end.
       std::string("\7"), std::string("\7\x10\0\x01", 4), std::string("\x08\x40\0\x80", 4), std::string("\x09", 1),
       std::string("\x09\x30\0\x04", 4), std::string("\x0a", 1), std::string("\x0a\x20\x01\x01", 4),
       std::string("\x0a\x05\0\xff\x01", 5)});
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const World& w = TheWorld();
  if (size == 0) return 0;
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 11) {
    case 0:
      LoadIdentity(w, rest);
      break;
    case 1:
      LoadIdentity(w, WithChecksum(rest));
      break;
    case 2:
      LoadTrust(w, rest);
      break;
    case 3:
      LoadTrust(w, WithChecksum(rest));
      break;
    case 4:
      if (auto c = DecodeCertificate(rest); c.ok())
        Check(EncodeCertificate(*c) == rest, "a decoded certificate re-encodes to the same bytes");
      break;
    case 5:
      if (auto l = DecodeRevocationList(rest); l.ok())
        Check(EncodeRevocationList(*l) == rest, "a decoded revocation list re-encodes to the same bytes");
      break;
    case 6:
      (void)EnrolmentRequestCodeId(rest);
      break;
    case 7: {
      std::string bytes = fuzzing::Edit(w.certificate, data + 1, size - 1);
      auto c = DecodeCertificate(bytes);
      bool verifies = c.ok() && w.Pinned().CheckCertificate(*c, c->scope, kNow).ok();
      Check(verifies == (bytes == w.certificate), "a certificate verifies exactly when unchanged");
      break;
    }
    case 8: {
      std::string bytes = fuzzing::Edit(w.revocations, data + 1, size - 1);
      auto l = DecodeRevocationList(bytes);
      TrustStore t = w.Pinned();
      bool verifies = l.ok() && t.UpdateRevocations(*l).ok();
      Check(verifies == (bytes == w.revocations), "a revocation list verifies exactly when unchanged");
      break;
    }
    case 9: {
      std::string bytes = fuzzing::Edit(w.request, data + 1, size - 1);
      bool verifies = AnswerEnrolment(*w.gateway, w.gateway_certificate, w.pending.pending, bytes, 18, kNow,
                                      86400 * 365, std::nullopt)
                          .ok();
      Check(verifies == (bytes == w.request), "an enrolment request is answered exactly when unchanged");
      break;
    }
    case 10: {
      std::string bytes = fuzzing::Edit(w.response, data + 1, size - 1);
      bool verifies = AcceptEnrolment(*w.box, w.pending.code, bytes).ok();
      Check(verifies == (bytes == w.response), "an enrolment response is accepted exactly when unchanged");
      break;
    }
  }
  return 0;
}
