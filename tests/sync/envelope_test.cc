#include "sync/envelope.h"

#include <doctest/doctest.h>

#include "core/compression.h"
#include "sync/format.h"
#include "tests/support/parties.h"
#include "tests/support/temp_dir.h"

using namespace relais;
using namespace relais::sync;
using namespace relais::testing;

namespace {

bool SameRecords(const std::vector<Record>& a, const std::vector<Record>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].kind != b[i].kind || a[i].bytes != b[i].bytes) return false;
  return true;
}

}  // namespace

TEST_CASE("a box's bundle reaches the gateway with every record, in order") {
  Parties p;
  std::vector<Record> records = SampleRecords(500);
  records.push_back(Record{7, ""});  // an empty record is a record
  std::string bundle = p.FromBoxA(records);
  auto got = p.GatewayReads(bundle);
  REQUIRE(got.ok());
  CHECK(SameRecords(*got, records));
}

TEST_CASE("the gateway's bundle reaches the box, and an empty bundle is valid") {
  Parties p;
  auto got = p.BoxAReads(p.ToBoxA(SampleRecords(3)));
  REQUIRE(got.ok());
  CHECK(got->size() == 3);
  auto empty = p.BoxAReads(p.ToBoxA({}));
  REQUIRE(empty.ok());
  CHECK(empty->empty());
}

TEST_CASE("a bundle bigger than many stream messages round-trips, big records included") {
  Parties p;
  std::vector<Record> records;
  for (int i = 0; i < 40; ++i) records.push_back(Record{1, core::RandomBytes(50000)});  // incompressible
  records.push_back(Record{2, std::string(3 << 20, 'z')});                              // one record over many messages
  records.push_back(Record{3, core::RandomBytes(200000)});
  std::string bundle = p.FromBoxA(records);
  CHECK(bundle.size() > 30 * kStreamCipherBytes);
  auto got = p.GatewayReads(bundle);
  REQUIRE(got.ok());
  CHECK(SameRecords(*got, records));
}

TEST_CASE("the header tells the reader who sent the bundle, when and for whom") {
  Parties p;
  std::string bundle = p.FromBoxA(SampleRecords(2));
  StringSource source(bundle);
  auto reader = BundleReader::Open(source, *p.gateway, p.gateway_trust, kSchoolA, p.clock.Now());
  REQUIRE(reader.ok());
  const BundleHeader& h = (*reader)->header();
  CHECK(h.scope == kSchoolA);
  CHECK(h.sender_key_id == p.box_a->sign_key_id());
  CHECK(h.recipient_key_id == p.gateway->current_box_key().id);
  CHECK(h.created_hlc == 42);
  CHECK(h.expires_at == p.clock.Now() + 30 * 86400);
  CHECK((*reader)->record_count() == 2);
}

TEST_CASE("every truncation of a small bundle is rejected") {
  Parties p;
  std::string bundle = p.FromBoxA(SampleRecords(3));
  REQUIRE(p.GatewayReads(bundle).ok());
  for (size_t len = 0; len < bundle.size(); ++len) {
    auto got = p.GatewayReads(bundle.substr(0, len));
    INFO("truncated to " << len << " of " << bundle.size());
    CHECK_FALSE(got.ok());
  }
}

TEST_CASE("every single-byte change of a small bundle is rejected as corruption") {
  Parties p;
  std::string bundle = p.FromBoxA(SampleRecords(3));
  // The two version fields (the bundle's, the embedded certificate's) say
  // "unsupported version" instead; see docs/sync-format.md for the offsets.
  const size_t scope = std::string(kSchoolA).size();
  auto is_version = [&](size_t i) { return (i >= 8 && i < 10) || (i >= 93 + scope + 8 && i < 93 + scope + 10); };
  for (size_t i = 0; i < bundle.size(); ++i) {
    for (uint8_t mask : {0x01, 0x80, 0xff}) {
      std::string bad = bundle;
      bad[i] = static_cast<char>(bad[i] ^ mask);
      auto got = p.GatewayReads(bad);
      INFO("byte " << i << " of " << bundle.size() << " xor " << int(mask) << ": " << got.status().ToString());
      CHECK(got.status().code() == (is_version(i) ? StatusCode::kInvalidArgument : StatusCode::kCorruption));
    }
  }
}

TEST_CASE("appended bytes and a bundle cut inside its payload are corruption") {
  Parties p;
  std::vector<Record> records;
  for (int i = 0; i < 6; ++i) records.push_back(Record{1, core::RandomBytes(40000)});
  std::string bundle = p.FromBoxA(records);
  CHECK(p.GatewayReads(bundle + "x").status().code() == StatusCode::kCorruption);
  CHECK(p.GatewayReads(bundle.substr(0, bundle.size() / 2)).status().code() == StatusCode::kCorruption);
}

TEST_CASE("swapping two stream messages is detected") {
  Parties p;
  std::vector<Record> records;
  for (int i = 0; i < 8; ++i) records.push_back(Record{1, core::RandomBytes(40000)});
  std::string bundle = p.FromBoxA(records);
  // The header size is at bytes 10..11.
  size_t header = static_cast<uint8_t>(bundle[10]) | (static_cast<uint8_t>(bundle[11]) << 8);
  REQUIRE(bundle.size() > header + 3 * kStreamCipherBytes);
  std::string swapped = bundle;
  std::string first = bundle.substr(header, kStreamCipherBytes);
  std::string second = bundle.substr(header + kStreamCipherBytes, kStreamCipherBytes);
  swapped.replace(header, kStreamCipherBytes, second);
  swapped.replace(header + kStreamCipherBytes, kStreamCipherBytes, first);
  CHECK(p.GatewayReads(swapped).status().code() == StatusCode::kCorruption);
}

TEST_CASE("a bundle replayed to another box or school is refused") {
  Parties p;
  std::string to_a = p.ToBoxA(SampleRecords(2));
  auto as_b = p.Read(to_a, *p.box_b, p.box_trust, kSchoolB);
  CHECK(as_b.status().code() == StatusCode::kPermissionDenied);
  auto b_under_a = p.Read(to_a, *p.box_b, p.box_trust, kSchoolA);
  CHECK(b_under_a.status().code() == StatusCode::kPermissionDenied);
  std::string from_a = p.FromBoxA(SampleRecords(2));
  CHECK(p.GatewayReads(from_a, kSchoolB).status().code() == StatusCode::kPermissionDenied);
}

TEST_CASE("a box cannot sign for a school its certificate does not cover") {
  Parties p;
  // Box B, certified for school B, claims to write for school A.
  std::string forged =
      p.Write(*p.box_b, Parties::RecipientOf(*p.gateway), kSchoolA, EncodeCertificate(p.cert_b), SampleRecords(1));
  auto got = p.GatewayReads(forged, kSchoolA);
  CHECK(got.status().code() == StatusCode::kPermissionDenied);
  CHECK(got.status().message() == "certificate is for another school");
}

TEST_CASE("a bundle signed by an unknown key is refused") {
  Parties p;
  auto rogue_gateway = Identity::Generate();
  auto rogue_box = Identity::Generate();
  // No certificate at all, and not a pinned key.
  std::string plain = p.Write(*rogue_box, Parties::RecipientOf(*p.gateway), kSchoolA, "", SampleRecords(1));
  CHECK(p.GatewayReads(plain).status().code() == StatusCode::kPermissionDenied);
  // A certificate from a gateway nobody pinned.
  Certificate c = p.cert_a;
  c.sign_key = rogue_box->sign_public_key();
  REQUIRE(SignCertificate(*rogue_gateway, &c).ok());
  std::string rogue =
      p.Write(*rogue_box, Parties::RecipientOf(*p.gateway), kSchoolA, EncodeCertificate(c), SampleRecords(1));
  CHECK(p.GatewayReads(rogue).status().code() == StatusCode::kPermissionDenied);
  // Box A's genuine certificate, presented by another key.
  std::string stolen =
      p.Write(*rogue_box, Parties::RecipientOf(*p.gateway), kSchoolA, EncodeCertificate(p.cert_a), SampleRecords(1));
  CHECK_FALSE(p.GatewayReads(stolen).ok());
}

TEST_CASE("a revoked box is refused from then on, and an older list cannot lift the revocation") {
  Parties p;
  std::string before = p.FromBoxA(SampleRecords(2));
  REQUIRE(p.GatewayReads(before).ok());

  RevocationList v1;
  v1.version = 1;
  v1.issued_at = p.clock.Now();
  SignRevocationList(*p.gateway, &v1);
  RevocationList v2 = v1;
  v2.version = 2;
  v2.entries.push_back(Revocation{p.box_a->sign_key_id(), p.clock.Now()});
  SignRevocationList(*p.gateway, &v2);

  auto adopted = p.gateway_trust.UpdateRevocations(v2);
  REQUIRE(adopted.ok());
  CHECK(*adopted);
  auto got = p.GatewayReads(before);
  CHECK(got.status().code() == StatusCode::kPermissionDenied);
  CHECK(got.status().message() == "signing key revoked");
  CHECK(p.GatewayReads(p.FromBoxA(SampleRecords(1))).status().code() == StatusCode::kPermissionDenied);

  auto stale = p.gateway_trust.UpdateRevocations(v1);
  REQUIRE(stale.ok());
  CHECK_FALSE(*stale);
  CHECK(p.gateway_trust.IsRevoked(p.box_a->sign_key_id()));

  // The list travels as bytes; a forged one is refused.
  auto decoded = DecodeRevocationList(EncodeRevocationList(v2));
  REQUIRE(decoded.ok());
  CHECK(decoded->Contains(p.box_a->sign_key_id()));
  RevocationList forged = v2;
  forged.version = 3;
  forged.entries.clear();
  CHECK(p.gateway_trust.UpdateRevocations(forged).status().code() == StatusCode::kPermissionDenied);
}

TEST_CASE("an expired certificate or an expired bundle is refused") {
  Parties p;
  p.cert_a = p.Issue(*p.box_a, kSchoolA, 9, p.clock.Now() + 3600);
  std::string bundle = p.FromBoxA(SampleRecords(1));
  REQUIRE(p.GatewayReads(bundle).ok());
  p.clock.Advance(3601);
  auto got = p.GatewayReads(bundle);
  CHECK(got.status().code() == StatusCode::kPermissionDenied);
  CHECK(got.status().message() == "certificate expired");

  Parties q;
  std::string short_lived =
      q.Write(*q.gateway, Parties::RecipientOf(*q.box_a), kSchoolA, "", SampleRecords(1), /*ttl=*/60);
  REQUIRE(q.BoxAReads(short_lived).ok());
  q.clock.Advance(61);
  CHECK(q.BoxAReads(short_lived).status().message() == "bundle expired");
}

TEST_CASE("a bundle of an unknown format version is refused with a clear message") {
  Parties p;
  std::string bundle = p.FromBoxA(SampleRecords(1));
  bundle[8] = 2;  // version, little-endian at bytes 8..9
  auto got = p.GatewayReads(bundle);
  CHECK(got.status().code() == StatusCode::kInvalidArgument);
  CHECK(got.status().message().find("version 2 is not supported") != std::string::npos);
  CHECK(p.GatewayReads("GIF89a and so on, not a bundle at all").status().code() == StatusCode::kCorruption);
}

TEST_CASE("bundles sealed to an old encryption key still open after a rotation, until that key is forgotten") {
  Parties p;
  std::string in_transit = p.ToBoxA(SampleRecords(2));
  const BoxKey& next = p.box_a->RotateBoxKey();
  CHECK(next.epoch == 2);
  CHECK(p.BoxAReads(in_transit).ok());
  std::string fresh = p.ToBoxA(SampleRecords(2));  // sealed to epoch 2
  CHECK(p.BoxAReads(fresh).ok());
  p.box_a->ForgetBoxKeysBefore(2);
  CHECK(p.BoxAReads(in_transit).status().code() == StatusCode::kPermissionDenied);
  CHECK(p.BoxAReads(fresh).ok());
}

TEST_CASE("a bundle streams to and from files") {
  Parties p;
  TempDir tmp;
  const std::filesystem::path& dir = tmp.path;
  auto file = core::StreamingFile::Create(dir);
  REQUIRE(file.ok());
  StreamingFileSink sink(file->get());
  BundleOptions opt;
  opt.scope = kSchoolA;
  opt.expires_at = p.clock.Now() + 3600;
  opt.sender_certificate = EncodeCertificate(p.cert_a);
  auto w = BundleWriter::Create(*p.box_a, Parties::RecipientOf(*p.gateway), opt, &sink);
  REQUIRE(w.ok());
  std::vector<Record> records = SampleRecords(2000, 300);
  for (const Record& r : records) REQUIRE((*w)->Add(r.kind, r.bytes).ok());
  auto summary = (*w)->Finish();
  REQUIRE(summary.ok());
  REQUIRE((*file)->CommitTo(dir / "out.bundle").ok());
  CHECK(std::filesystem::file_size(dir / "out.bundle") == summary->bundle_bytes);
  CHECK(summary->bundle_bytes < summary->records_bytes / 3);

  auto source = FileSource::Open(dir / "out.bundle");
  REQUIRE(source.ok());
  auto reader = BundleReader::Open(**source, *p.gateway, p.gateway_trust, kSchoolA, p.clock.Now());
  REQUIRE(reader.ok());
  size_t n = 0;
  Record r;
  for (;;) {
    auto more = (*reader)->Next(&r);
    REQUIRE(more.ok());
    if (!*more) break;
    CHECK(r.bytes == records[n].bytes);
    ++n;
  }
  CHECK(n == records.size());
}

TEST_CASE("a bundle's fixed cost is what docs/sync-format.md says") {
  Parties p;
  std::string frame = *core::ZstdCompress("");
  std::string down = p.ToBoxA({});
  CHECK(down.size() == 333 + frame.size() + core::kStreamOverheadBytes);
  std::string up = p.FromBoxA({});
  CHECK(EncodeCertificate(p.cert_a).size() == 192);
  CHECK(up.size() == 525 + frame.size() + core::kStreamOverheadBytes);
}

TEST_CASE("random damage to a bundle of several messages is always refused") {
  Parties p;
  std::vector<Record> records = SampleRecords(300, 400);
  for (int i = 0; i < 3; ++i) records.push_back(Record{9, core::RandomBytes(70000)});
  std::string bundle = p.FromBoxA(records);
  REQUIRE(bundle.size() > 3 * kStreamCipherBytes);
  uint64_t seed = 0x5eed;
  auto rnd = [&](uint64_t n) {
    seed = seed * 6364136223846793005u + 1442695040888963407u;
    return (seed >> 33) % n;
  };
  for (int round = 0; round < 300; ++round) {
    std::string bad = bundle;
    switch (round % 4) {
      case 0:  // a few bytes changed anywhere
        for (uint64_t k = 0, n = 1 + rnd(8); k < n; ++k) bad[rnd(bad.size())] ^= static_cast<char>(1 + rnd(255));
        break;
      case 1:  // bytes inserted
        bad.insert(rnd(bad.size()), core::RandomBytes(1 + rnd(100)));
        break;
      case 2:  // a range deleted
        bad.erase(rnd(bad.size()), 1 + rnd(5000));
        break;
      case 3:  // the tail of another bundle spliced on
        std::string other = p.FromBoxA(SampleRecords(5));
        size_t cut = rnd(bad.size());
        bad = bad.substr(0, cut) + other.substr(std::min(cut, other.size() - 1));
        break;
    }
    if (bad == bundle) continue;
    INFO("round " << round);
    CHECK_FALSE(p.GatewayReads(bad).ok());
  }
}
