// sync/enrolment.h — how a box joins a school's gateway.
//
// 1. On the gateway an operator asks for a one-time code for a school
//    (NewEnrolmentCode). The gateway stores the PendingEnrolment (never the
//    code itself) and shows the code, "ABCD-EFGH-JKLM-NPQR", to the technician.
// 2. On the box the technician types the code. The box builds a request
//    (MakeEnrolmentRequest): its public keys, signed by its own signing key
//    (proof it holds it) and MACed with a key derived from the code (proof
//    the technician was given the code). The code never travels.
// 3. The gateway finds the pending enrolment by the code id in the request
//    (EnrolmentRequestCodeId), checks it (AnswerEnrolment) and answers with a
//    certificate for the box scoped to the school, its own self-certificate
//    (its keys) and its revocation list, MACed with the code's key. It marks
//    the code used in the same transaction as it records the certificate.
// 4. The box checks the answer with the code (AcceptEnrolment): only the
//    gateway that issued the code can MAC it, so the gateway keys it pins are
//    the right ones even over an untrusted link or a USB stick.
// Pure functions over bytes: storage and transport belong to the caller.
// Layouts: docs/sync-format.md.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "sync/certificate.h"
#include "sync/format.h"
#include "sync/identity.h"

namespace relais::sync {

using CodeId = std::array<uint8_t, kEnrolmentCodeIdBytes>;

struct PendingEnrolment {
  CodeId code_id{};
  std::string code_key;  // 32 bytes, derived from the code; as secret as the code
  std::string scope;     // the school the box will belong to
  int64_t expires_at = 0;
};

struct EnrolmentCode {
  std::string code;  // for the technician, "ABCD-EFGH-JKLM-NPQR"
  PendingEnrolment pending;
};

// A fresh code for `scope`, valid for `ttl_seconds`.
Result<EnrolmentCode> NewEnrolmentCode(std::string scope, int64_t now, int64_t ttl_seconds);

// The code id and key from a typed code (case, spaces and dashes ignored).
// InvalidArgument if it is not a well-formed code.
struct CodeKeys {
  CodeId code_id{};
  std::string code_key;
};
Result<CodeKeys> DeriveCodeKeys(std::string_view typed_code);

// Box: the request to send to the gateway.
Result<std::string> MakeEnrolmentRequest(const Identity& box, std::string_view typed_code, int64_t now);

// Gateway: which pending enrolment a request is for. Corruption if malformed.
Result<CodeId> EnrolmentRequestCodeId(std::string_view request);

struct EnrolmentAnswer {
  Certificate box_certificate;  // what the gateway records for this box
  std::string response;         // what goes back to the box
};

// Gateway: checks `request` against `pending` at `now` and answers it.
// PermissionDenied if the code is wrong or expired; Corruption if the request
// is malformed or its signature is wrong. `gateway_certificate` comes from
// MakeGatewayCertificate; `revocations` may be empty.
Result<EnrolmentAnswer> AnswerEnrolment(const Identity& gateway, const Certificate& gateway_certificate,
                                        const PendingEnrolment& pending, std::string_view request, uint64_t serial,
                                        int64_t now, int64_t certificate_lifetime,
                                        const std::optional<RevocationList>& revocations);

struct Enrolment {
  Certificate certificate;          // the box's own
  Certificate gateway_certificate;  // the gateway's keys, to pin
  std::optional<RevocationList> revocations;
};

// Box: checks the gateway's response with the code. PermissionDenied if the
// response was not made by the gateway that issued the code, or certifies
// other keys than the box's; Corruption if malformed.
Result<Enrolment> AcceptEnrolment(const Identity& box, std::string_view typed_code, std::string_view response);

// Box: pins the gateway key, adopts its certificate and revocation list into
// `trust`. The caller saves the trust store and the certificate.
Status PinEnrolment(const Enrolment& enrolment, TrustStore* trust);

}  // namespace relais::sync
