#include "sync/enrolment.h"

#include <doctest/doctest.h>

#include "tests/support/parties.h"

using namespace relais;
using namespace relais::sync;
using namespace relais::testing;

namespace {

struct Enrolling {
  Parties p;
  Certificate gateway_cert;
  std::unique_ptr<Identity> box = Identity::Generate();
  EnrolmentCode code;

  Enrolling() {
    auto gc = MakeGatewayCertificate(*p.gateway, "ent.example.fr", 1, p.clock.Now(), p.clock.Now() + 10 * 365 * 86400);
    REQUIRE(gc.ok());
    gateway_cert = *gc;
    auto c = NewEnrolmentCode(kSchoolA, p.clock.Now(), 7 * 86400);
    REQUIRE(c.ok());
    code = *c;
  }

  Result<EnrolmentAnswer> Answer(const std::string& request, int64_t now) {
    return AnswerEnrolment(*p.gateway, gateway_cert, code.pending, request, 77, now, 365 * 86400, std::nullopt);
  }
};

}  // namespace

TEST_CASE("a box enrolled with a one-time code gets a certificate for its school and pins the gateway") {
  Enrolling e;
  CHECK(e.code.code.size() == 19);
  CHECK(e.code.code[4] == '-');
  // The technician types it in lower case with spaces.
  std::string typed = e.code.code;
  for (char& c : typed) c = c == '-' ? ' ' : static_cast<char>(std::tolower(c));
  auto request = MakeEnrolmentRequest(*e.box, typed, e.p.clock.Now());
  REQUIRE(request.ok());
  CHECK(request->find(e.code.code) == std::string::npos);  // the code itself never travels
  auto id = EnrolmentRequestCodeId(*request);
  REQUIRE(id.ok());
  CHECK(*id == e.code.pending.code_id);

  auto answer = e.Answer(*request, e.p.clock.Now() + 3600);
  REQUIRE(answer.ok());
  CHECK(answer->box_certificate.scope == kSchoolA);
  CHECK(answer->box_certificate.serial == 77);

  auto enrolment = AcceptEnrolment(*e.box, e.code.code, answer->response);
  REQUIRE(enrolment.ok());
  TrustStore trust;
  REQUIRE(PinEnrolment(*enrolment, &trust).ok());
  CHECK(trust.FindPinned(e.p.gateway->sign_key_id()) != nullptr);
  REQUIRE(trust.gateway_certificate() != nullptr);
  CHECK(trust.gateway_certificate()->box_key == e.p.gateway->current_box_key().keys.public_key);

  // The enrolled box can now send to the gateway, and read what the gateway sends it.
  Recipient gw{trust.gateway_certificate()->box_key, trust.gateway_certificate()->box_epoch};
  std::string up = e.p.Write(*e.box, gw, kSchoolA, EncodeCertificate(enrolment->certificate), SampleRecords(3));
  CHECK(e.p.GatewayReads(up).ok());
  std::string down = e.p.Write(*e.p.gateway, Parties::RecipientOf(*e.box), kSchoolA, "", SampleRecords(2));
  CHECK(e.p.Read(down, *e.box, trust, kSchoolA).ok());
}

TEST_CASE("a wrong or expired enrolment code is refused") {
  Enrolling e;
  auto other = NewEnrolmentCode(kSchoolA, e.p.clock.Now(), 3600);
  REQUIRE(other.ok());
  auto wrong = MakeEnrolmentRequest(*e.box, other->code, e.p.clock.Now());
  REQUIRE(wrong.ok());
  CHECK(e.Answer(*wrong, e.p.clock.Now()).status().code() == StatusCode::kPermissionDenied);

  auto right = MakeEnrolmentRequest(*e.box, e.code.code, e.p.clock.Now());
  REQUIRE(right.ok());
  auto late = e.Answer(*right, e.p.clock.Now() + 8 * 86400);
  CHECK(late.status().code() == StatusCode::kPermissionDenied);
  CHECK(late.status().message() == "enrolment code expired");

  CHECK(MakeEnrolmentRequest(*e.box, "not a code", 0).status().code() == StatusCode::kInvalidArgument);
  CHECK(MakeEnrolmentRequest(*e.box, "ABCD-EFGH-JKLM-NPQ0", 0).status().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("every altered byte of an enrolment request or response is refused") {
  Enrolling e;
  auto request = MakeEnrolmentRequest(*e.box, e.code.code, e.p.clock.Now());
  REQUIRE(request.ok());
  for (size_t i = 0; i < request->size(); ++i) {
    std::string bad = *request;
    bad[i] ^= 0x04;
    INFO("request byte " << i);
    CHECK_FALSE(e.Answer(bad, e.p.clock.Now()).ok());
  }
  auto answer = e.Answer(*request, e.p.clock.Now());
  REQUIRE(answer.ok());
  for (size_t i = 0; i < answer->response.size(); ++i) {
    std::string bad = answer->response;
    bad[i] ^= 0x04;
    INFO("response byte " << i);
    CHECK_FALSE(AcceptEnrolment(*e.box, e.code.code, bad).ok());
  }
  for (size_t len = 0; len < answer->response.size(); ++len)
    CHECK_FALSE(AcceptEnrolment(*e.box, e.code.code, answer->response.substr(0, len)).ok());
}

TEST_CASE("a man in the middle without the code cannot make a box pin his key") {
  Enrolling e;
  auto request = MakeEnrolmentRequest(*e.box, e.code.code, e.p.clock.Now());
  REQUIRE(request.ok());
  // He runs his own gateway and answers with a code of his own.
  auto mitm = Identity::Generate();
  auto mitm_cert = MakeGatewayCertificate(*mitm, "evil", 1, 0, e.p.clock.Now() + 86400);
  REQUIRE(mitm_cert.ok());
  auto his_code = NewEnrolmentCode(kSchoolA, e.p.clock.Now(), 3600);
  REQUIRE(his_code.ok());
  PendingEnrolment forged = his_code->pending;
  forged.code_id = e.code.pending.code_id;
  auto answer = AnswerEnrolment(*mitm, *mitm_cert, forged, *request, 1, e.p.clock.Now(), 86400, std::nullopt);
  CHECK_FALSE(answer.ok());  // he cannot even check the request's MAC
  // Nor can he reuse a genuine response for another box.
  auto genuine = e.Answer(*request, e.p.clock.Now());
  REQUIRE(genuine.ok());
  auto other_box = Identity::Generate();
  CHECK(AcceptEnrolment(*other_box, e.code.code, genuine->response).status().code() == StatusCode::kPermissionDenied);
}

TEST_CASE("a gateway's new encryption key reaches boxes as a newer self-certificate") {
  Enrolling e;
  TrustStore trust;
  trust.Pin(e.p.gateway->sign_public_key());
  REQUIRE(*trust.AdoptGatewayCertificate(e.gateway_cert));
  e.p.gateway->RotateBoxKey();
  auto next = MakeGatewayCertificate(*e.p.gateway, "ent.example.fr", 2, e.p.clock.Now(), e.p.clock.Now() + 86400);
  REQUIRE(next.ok());
  auto adopted = trust.AdoptGatewayCertificate(*next);
  REQUIRE(adopted.ok());
  CHECK(*adopted);
  CHECK(trust.gateway_certificate()->box_epoch == 2);
  CHECK_FALSE(*trust.AdoptGatewayCertificate(e.gateway_cert));  // an older one does not win back
  // A certificate a box issued itself is not a gateway's.
  auto rogue = MakeGatewayCertificate(*e.p.box_a, "box", 3, 0, e.p.clock.Now() + 86400);
  REQUIRE(rogue.ok());
  CHECK(trust.AdoptGatewayCertificate(*rogue).status().code() == StatusCode::kPermissionDenied);
}
