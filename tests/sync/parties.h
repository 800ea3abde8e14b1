// tests/sync/parties.h — a gateway, two boxes in two schools, their
// certificates and trust stores: the cast of the sync tests.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "sync/certificate.h"
#include "sync/envelope.h"
#include "sync/identity.h"

namespace relais::sync::testing {

inline constexpr const char* kSchoolA = "0971234A";
inline constexpr const char* kSchoolB = "0975678B";

struct Parties {
  core::FakeClock clock{1790000000};
  std::unique_ptr<Identity> gateway = Identity::Generate();
  std::unique_ptr<Identity> box_a = Identity::Generate();
  std::unique_ptr<Identity> box_b = Identity::Generate();
  TrustStore gateway_trust;  // what the gateway trusts (its own key)
  TrustStore box_trust;      // what a box trusts (the pinned gateway key)
  Certificate cert_a, cert_b;

  Parties() {
    gateway_trust.Pin(gateway->sign_public_key());
    box_trust.Pin(gateway->sign_public_key());
    cert_a = Issue(*box_a, kSchoolA, 1, clock.Now() + 365 * 86400);
    cert_b = Issue(*box_b, kSchoolB, 2, clock.Now() + 365 * 86400);
  }

  Certificate Issue(const Identity& box, std::string school, uint64_t serial, int64_t expires_at) {
    auto c =
        IssueCertificate(*gateway, Role::kBox, std::move(school), serial, PublicKeysOf(box), clock.Now(), expires_at);
    REQUIRE(c.ok());
    return *c;
  }

  static Recipient RecipientOf(const Identity& id) {
    return Recipient{id.current_box_key().keys.public_key, id.current_box_key().epoch};
  }

  // A bundle of `records` written by `sender` for `recipient`.
  std::string Write(const Identity& sender, const Recipient& recipient, const std::string& school,
                    const std::string& certificate, const std::vector<Record>& records, int64_t ttl = 30 * 86400) {
    StringSink sink;
    BundleOptions opt;
    opt.scope = school;
    opt.created_hlc = 42;
    opt.created_at = clock.Now();
    opt.expires_at = clock.Now() + ttl;
    opt.sender_certificate = certificate;
    auto w = BundleWriter::Create(sender, recipient, opt, &sink);
    REQUIRE(w.ok());
    for (const Record& r : records) REQUIRE((*w)->Add(r.kind, r.bytes).ok());
    REQUIRE((*w)->Finish().ok());
    return std::move(sink.data());
  }

  // Box A's upstream bundle to the gateway.
  std::string FromBoxA(const std::vector<Record>& records) {
    return Write(*box_a, RecipientOf(*gateway), kSchoolA, EncodeCertificate(cert_a), records);
  }
  // The gateway's downstream bundle to box A.
  std::string ToBoxA(const std::vector<Record>& records) {
    return Write(*gateway, RecipientOf(*box_a), kSchoolA, "", records);
  }

  // Opens and reads `bundle` to its end as `me`; the records, or the first error.
  Result<std::vector<Record>> Read(const std::string& bundle, const Identity& me, const TrustStore& trust,
                                   const std::string& school) {
    StringSource source(bundle);
    RELAIS_ASSIGN_OR_RETURN(auto reader, BundleReader::Open(source, me, trust, school, clock.Now()));
    std::vector<Record> out;
    for (;;) {
      Record r;
      RELAIS_ASSIGN_OR_RETURN(bool more, reader->Next(&r));
      if (!more) return out;
      out.push_back(std::move(r));
    }
  }
  Result<std::vector<Record>> GatewayReads(const std::string& bundle, const std::string& school = kSchoolA) {
    return Read(bundle, *gateway, gateway_trust, school);
  }
  Result<std::vector<Record>> BoxAReads(const std::string& bundle) { return Read(bundle, *box_a, box_trust, kSchoolA); }
};

// Records like the journal's: small, similar, with binary ids.
inline std::vector<Record> SampleRecords(int n, size_t pad = 0) {
  std::vector<Record> out;
  for (int i = 0; i < n; ++i) {
    Record r;
    r.kind = static_cast<uint8_t>(1 + i % 3);
    r.bytes = core::RandomBytes(16) + "{\"table\":\"submissions\",\"seq\":" + std::to_string(i) +
              ",\"title\":\"Exercice " + std::to_string(i % 7) + "\"}" + std::string(pad, 'x');
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace relais::sync::testing
