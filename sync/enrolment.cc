#include "sync/enrolment.h"

#include "sync/byte_io.h"

namespace relais::sync {
namespace {

std::string Normalise(std::string_view typed) {
  std::string out;
  for (char c : typed) {
    if (c == '-' || c == ' ') continue;
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    out.push_back(c);
  }
  return out;
}

std::string Mac(const std::string& key, std::string_view message) { return core::HmacSha256(key, message); }

}  // namespace

Result<CodeKeys> DeriveCodeKeys(std::string_view typed_code) {
  std::string code = Normalise(typed_code);
  if (code.size() != kEnrolmentCodeChars || code.find_first_not_of(kEnrolmentAlphabet) != std::string::npos)
    return Status::InvalidArgument("an enrolment code is 16 letters and digits, like ABCD-EFGH-JKLM-NPQR");
  CodeKeys k;
  core::CopyTo(core::HmacSha256(code, "relais enrolment code id").substr(0, kEnrolmentCodeIdBytes), &k.code_id);
  k.code_key = core::HmacSha256(code, "relais enrolment code key");
  core::SecureWipe(code);
  return k;
}

Result<EnrolmentCode> NewEnrolmentCode(std::string scope, int64_t now, int64_t ttl_seconds) {
  if (scope.empty() || scope.size() > kMaxScopeBytes) return Status::InvalidArgument("a school scope is 1 to 64 bytes");
  std::string raw = core::RandomBytes(kEnrolmentCodeChars);
  EnrolmentCode out;
  for (size_t i = 0; i < kEnrolmentCodeChars; ++i) {
    if (i > 0 && i % 4 == 0) out.code.push_back('-');
    out.code.push_back(kEnrolmentAlphabet[static_cast<uint8_t>(raw[i]) % kEnrolmentAlphabet.size()]);
  }
  core::SecureWipe(raw);
  RELAIS_ASSIGN_OR_RETURN(CodeKeys keys, DeriveCodeKeys(out.code));
  out.pending.code_id = keys.code_id;
  out.pending.code_key = std::move(keys.code_key);
  out.pending.scope = std::move(scope);
  out.pending.expires_at = now + ttl_seconds;
  return out;
}

// Request: magic, version u16, code id, Ed25519 public key, X25519 public key,
// epoch u32, time i64, Ed25519 signature of all before, HMAC of all before.
Result<std::string> MakeEnrolmentRequest(const Identity& box, std::string_view typed_code, int64_t now) {
  RELAIS_ASSIGN_OR_RETURN(CodeKeys keys, DeriveCodeKeys(typed_code));
  std::string out;
  ByteWriter w(&out);
  w.Bytes(kEnrolmentRequestMagic);
  w.U16(kEnrolmentVersion);
  w.Bytes(keys.code_id);
  w.Bytes(box.sign_public_key());
  w.Bytes(box.current_box_key().keys.public_key);
  w.U32(box.current_box_key().epoch);
  w.I64(now);
  w.Bytes(box.Sign(out));
  w.Bytes(Mac(keys.code_key, out));
  core::SecureWipe(keys.code_key);
  return out;
}

namespace {

struct ParsedRequest {
  CodeId code_id{};
  core::SignPublicKey sign_key{};
  core::BoxPublicKey box_key{};
  uint32_t epoch = 0;
  int64_t time = 0;
  core::Signature signature{};
  std::string_view signed_part, maced_part, mac;
};

Result<ParsedRequest> ParseRequest(std::string_view request) {
  ByteReader r(request);
  if (r.Bytes(kEnrolmentRequestMagic.size()) != kEnrolmentRequestMagic)
    return Status::Corruption("not a Relais enrolment request");
  uint16_t version = r.U16();
  if (!r.ok()) return Status::Corruption("enrolment request truncated");
  if (version != kEnrolmentVersion)
    return Status::InvalidArgument("enrolment request version " + std::to_string(version) + " is not supported");
  ParsedRequest p;
  p.code_id = r.Array<kEnrolmentCodeIdBytes>();
  p.sign_key = r.Array<core::kSignPublicKeyBytes>();
  p.box_key = r.Array<core::kBoxPublicKeyBytes>();
  p.epoch = r.U32();
  p.time = r.I64();
  p.signed_part = request.substr(0, r.position());
  p.signature = r.Array<core::kSignatureBytes>();
  p.maced_part = request.substr(0, r.position());
  p.mac = r.Bytes(kMacBytes);
  if (!r.done()) return Status::Corruption("enrolment request has the wrong length");
  return p;
}

}  // namespace

Result<CodeId> EnrolmentRequestCodeId(std::string_view request) {
  RELAIS_ASSIGN_OR_RETURN(ParsedRequest p, ParseRequest(request));
  return p.code_id;
}

// Response: magic, version u16, box certificate (u16 length + bytes), gateway
// certificate (u16 length + bytes), revocation list (u32 length + bytes, 0 if
// none), HMAC of all before under the code key.
Result<EnrolmentAnswer> AnswerEnrolment(const Identity& gateway, const Certificate& gateway_certificate,
                                        const PendingEnrolment& pending, std::string_view request, uint64_t serial,
                                        int64_t now, int64_t certificate_lifetime,
                                        const std::optional<RevocationList>& revocations) {
  RELAIS_ASSIGN_OR_RETURN(ParsedRequest p, ParseRequest(request));
  if (p.code_id != pending.code_id || !core::ConstantTimeEqual(Mac(pending.code_key, p.maced_part), p.mac))
    return Status::PermissionDenied("wrong enrolment code");
  if (pending.expires_at <= now) return Status::PermissionDenied("enrolment code expired");
  if (!core::VerifySignature(p.sign_key, p.signed_part, p.signature))
    return Status::Corruption("enrolment request signature does not verify");

  EnrolmentAnswer answer;
  RELAIS_ASSIGN_OR_RETURN(answer.box_certificate, IssueCertificate(gateway, Role::kBox, pending.scope, serial,
                                                                   SubjectKeys{p.sign_key, p.box_key, p.epoch}, now,
                                                                   now + certificate_lifetime));
  const Certificate& c = answer.box_certificate;

  std::string& out = answer.response;
  ByteWriter w(&out);
  w.Bytes(kEnrolmentResponseMagic);
  w.U16(kEnrolmentVersion);
  std::string box_cert = EncodeCertificate(c);
  std::string gw_cert = EncodeCertificate(gateway_certificate);
  std::string rev = revocations ? EncodeRevocationList(*revocations) : std::string();
  w.U16(static_cast<uint16_t>(box_cert.size()));
  w.Bytes(box_cert);
  w.U16(static_cast<uint16_t>(gw_cert.size()));
  w.Bytes(gw_cert);
  w.U32(static_cast<uint32_t>(rev.size()));
  w.Bytes(rev);
  w.Bytes(Mac(pending.code_key, out));
  return answer;
}

Result<Enrolment> AcceptEnrolment(const Identity& box, std::string_view typed_code, std::string_view response) {
  RELAIS_ASSIGN_OR_RETURN(CodeKeys keys, DeriveCodeKeys(typed_code));
  if (response.size() < kMacBytes) return Status::Corruption("enrolment response truncated");
  std::string_view body = response.substr(0, response.size() - kMacBytes);
  if (!core::ConstantTimeEqual(Mac(keys.code_key, body), response.substr(body.size())))
    return Status::PermissionDenied("enrolment response does not come from the gateway that issued this code");
  ByteReader r(body);
  if (r.Bytes(kEnrolmentResponseMagic.size()) != kEnrolmentResponseMagic)
    return Status::Corruption("not a Relais enrolment response");
  uint16_t version = r.U16();
  if (version != kEnrolmentVersion) return Status::InvalidArgument("enrolment response version is not supported");
  std::string_view box_cert = r.Bytes(r.U16());
  std::string_view gw_cert = r.Bytes(r.U16());
  std::string_view rev = r.Bytes(r.U32());
  if (!r.done()) return Status::Corruption("enrolment response has the wrong length");

  Enrolment e;
  RELAIS_ASSIGN_OR_RETURN(e.certificate, DecodeCertificate(box_cert));
  RELAIS_ASSIGN_OR_RETURN(e.gateway_certificate, DecodeCertificate(gw_cert));
  if (!rev.empty()) {
    RELAIS_ASSIGN_OR_RETURN(RevocationList list, DecodeRevocationList(rev));
    e.revocations = std::move(list);
  }
  // Check what we are about to pin with a scratch trust store.
  TrustStore scratch;
  RELAIS_RETURN_IF_ERROR(PinEnrolment(e, &scratch));
  if (e.certificate.sign_key != box.sign_public_key() || e.certificate.box_key != box.current_box_key().keys.public_key)
    return Status::PermissionDenied("enrolment certificate is for other keys than this box's");
  RELAIS_RETURN_IF_ERROR(scratch.CheckCertificate(e.certificate, e.certificate.scope, e.certificate.issued_at));
  return e;
}

Status PinEnrolment(const Enrolment& enrolment, TrustStore* trust) {
  if (enrolment.gateway_certificate.role != Role::kGateway)
    return Status::PermissionDenied("enrolment names no gateway certificate");
  TrustStore next = *trust;  // all or nothing
  next.Pin(enrolment.gateway_certificate.sign_key);
  RELAIS_ASSIGN_OR_RETURN(bool adopted, next.AdoptGatewayCertificate(enrolment.gateway_certificate));
  (void)adopted;  // an older gateway certificate is harmless
  if (enrolment.revocations) {
    RELAIS_ASSIGN_OR_RETURN(bool newer, next.UpdateRevocations(*enrolment.revocations));
    (void)newer;
  }
  *trust = std::move(next);
  return Status::Ok();
}

}  // namespace relais::sync
