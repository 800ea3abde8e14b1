// tests/support/parties.h — a gateway, two boxes in two schools, their
// certificates and trust stores: the cast of the sync tests.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "sync/certificate.h"
#include "sync/envelope.h"
#include "sync/identity.h"

namespace relais::testing {

inline constexpr const char* kSchoolA = "0971234A";
inline constexpr const char* kSchoolB = "0975678B";

struct Parties {
  core::FakeClock clock{1790000000};
  std::unique_ptr<sync::Identity> gateway = sync::Identity::Generate();
  std::unique_ptr<sync::Identity> box_a = sync::Identity::Generate();
  std::unique_ptr<sync::Identity> box_b = sync::Identity::Generate();
  sync::TrustStore gateway_trust;  // what the gateway trusts (its own key)
  sync::TrustStore box_trust;      // what a box trusts (the pinned gateway key)
  sync::Certificate cert_a, cert_b;

  Parties() {
    gateway_trust.Pin(gateway->sign_public_key());
    box_trust.Pin(gateway->sign_public_key());
    cert_a = Issue(*box_a, kSchoolA, 1, clock.Now() + 365 * 86400);
    cert_b = Issue(*box_b, kSchoolB, 2, clock.Now() + 365 * 86400);
  }

  sync::Certificate Issue(const sync::Identity& box, std::string school, uint64_t serial, int64_t expires_at) {
    auto c = sync::IssueCertificate(*gateway, sync::Role::kBox, std::move(school), serial, sync::PublicKeysOf(box),
                                    clock.Now(), expires_at);
    REQUIRE(c.ok());
    return *c;
  }

  static sync::Recipient RecipientOf(const sync::Identity& id) {
    return sync::Recipient{id.current_box_key().keys.public_key, id.current_box_key().epoch};
  }

  // A bundle of `records` written by `sender` for `recipient`.
  std::string Write(const sync::Identity& sender, const sync::Recipient& recipient, const std::string& school,
                    const std::string& certificate, const std::vector<sync::Record>& records,
                    int64_t ttl = 30 * 86400) {
    sync::StringSink sink;
    sync::BundleOptions opt;
    opt.scope = school;
    opt.created_hlc = 42;
    opt.created_at = clock.Now();
    opt.expires_at = clock.Now() + ttl;
    opt.sender_certificate = certificate;
    auto w = sync::BundleWriter::Create(sender, recipient, opt, &sink);
    REQUIRE(w.ok());
    for (const sync::Record& r : records) REQUIRE((*w)->Add(r.kind, r.bytes).ok());
    REQUIRE((*w)->Finish().ok());
    return std::move(sink.data());
  }

  // Box A's upstream bundle to the gateway.
  std::string FromBoxA(const std::vector<sync::Record>& records) {
    return Write(*box_a, RecipientOf(*gateway), kSchoolA, sync::EncodeCertificate(cert_a), records);
  }
  // The gateway's downstream bundle to box A.
  std::string ToBoxA(const std::vector<sync::Record>& records) {
    return Write(*gateway, RecipientOf(*box_a), kSchoolA, "", records);
  }

  // Opens and reads `bundle` to its end as `me`; the records, or the first error.
  Result<std::vector<sync::Record>> Read(const std::string& bundle, const sync::Identity& me,
                                         const sync::TrustStore& trust, const std::string& school) {
    sync::StringSource source(bundle);
    RELAIS_ASSIGN_OR_RETURN(auto reader, sync::BundleReader::Open(source, me, trust, school, clock.Now()));
    std::vector<sync::Record> out;
    for (;;) {
      sync::Record r;
      RELAIS_ASSIGN_OR_RETURN(bool more, reader->Next(&r));
      if (!more) return out;
      out.push_back(std::move(r));
    }
  }
  Result<std::vector<sync::Record>> GatewayReads(const std::string& bundle, const std::string& school = kSchoolA) {
    return Read(bundle, *gateway, gateway_trust, school);
  }
  Result<std::vector<sync::Record>> BoxAReads(const std::string& bundle) {
    return Read(bundle, *box_a, box_trust, kSchoolA);
  }
};

// Records like the journal's: small, similar, with binary ids.
inline std::vector<sync::Record> SampleRecords(int n, size_t pad = 0) {
  std::vector<sync::Record> out;
  for (int i = 0; i < n; ++i) {
    sync::Record r;
    r.kind = static_cast<uint8_t>(1 + i % 3);
    r.bytes = core::RandomBytes(16) + "{\"table\":\"submissions\",\"seq\":" + std::to_string(i) +
              ",\"title\":\"Exercice " + std::to_string(i % 7) + "\"}" + std::string(pad, 'x');
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace relais::testing
