// The operation record: round trips, and every damaged record is refused
// without a crash.
#include "sync/op_codec.h"

#include <doctest/doctest.h>

#include "sync/op_format.h"
#include "tests/support/replica_fixture.h"

namespace relais::sync {
namespace {

content::Op SampleOp() {
  content::Op op;
  op.origin = "0f8e7d6c-5b4a-4392-8170-a1b2c3d4e5f6";
  op.seq = 300;
  op.hlc = content::HlcPack(1790000000123, 7);
  op.base = content::HlcPack(1790000000000, 0);
  op.table = "homework";
  op.kind = content::Op::Kind::kUpdate;
  op.key = {std::string("3f2504e0-4f89-41d3-9a0c-0305e82c3301")};
  op.columns = {{"class_id", std::string("9b2f4c1e-7d3a-4e8f-b6a5-112233445566")},
                {"deleted_at", core::SqlValue()},
                {"grade", 12.5},
                {"published", int64_t{-42}},
                {"title", std::string("Fractions — exercices 3 à 7")}};
  return op;
}

TEST_CASE("an operation survives encoding and decoding unchanged, with UUIDs as 16 bytes") {
  content::Op op = SampleOp();
  std::string record = EncodeOp(op);
  auto back = DecodeOp(record);
  REQUIRE_MESSAGE(back.ok(), back.status().ToString());
  CHECK(*back == op);
  CHECK(EncodeOp(*back) == record);
  // UUIDs travel as 16 bytes, not as their 36 characters of text.
  CHECK(record.find("3f2504e0") == std::string::npos);
  CHECK(record.find(std::string("\x3f\x25\x04\xe0", 4)) != std::string::npos);
}

TEST_CASE("captured operations of a real school round-trip") {
  TestReplica box;
  REQUIRE(box->accounts().CreateClass(nullptr, "6e A").ok());
  box.AddUser("lea", content::Role::kStudent, "6e A");
  std::vector<content::Op> ops = box.AllOps();
  REQUIRE(ops.size() == 3);
  for (const content::Op& op : ops) {
    auto back = DecodeOp(EncodeOp(op));
    REQUIRE(back.ok());
    CHECK(*back == op);
  }
}

TEST_CASE("every truncation of a record is refused as corruption") {
  std::string record = EncodeOp(SampleOp());
  for (size_t n = 0; n < record.size(); ++n) {
    CAPTURE(n);
    auto r = DecodeOp(std::string_view(record).substr(0, n));
    CHECK(r.status().code() == StatusCode::kCorruption);
  }
  CHECK(DecodeOp(record + "x").status().code() == StatusCode::kCorruption);
}

TEST_CASE("every single-byte change of a record is refused or decodes to another operation, never crashes") {
  std::string record = EncodeOp(SampleOp());
  for (size_t i = 0; i < record.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string bad = record;
      bad[i] = static_cast<char>(bad[i] ^ (1 << bit));
      auto r = DecodeOp(bad);
      if (r.ok()) CHECK(!(*r == SampleOp()));
    }
  }
}

// Regression (tests/fuzz/op_codec_fuzz.cc): a number written in more bytes
// than needed (a final 0x00 after continuation bytes) was accepted, so one
// operation had several encodings, against EncodeOp's "canonical" promise.
TEST_CASE("a number in a longer form than needed is refused, so each operation has one encoding") {
  content::Op op = SampleOp();
  op.key = {int64_t{INT64_MIN}};  // zigzag: ten bytes, ff x 9 then 01
  std::string record = EncodeOp(op);
  size_t at = record.find(std::string(9, '\xff') + '\x01');
  REQUIRE(at != std::string::npos);
  std::string longer = record;
  longer[at + 9] = '\0';  // ff x 9 then 00: the number ff x 8 then 7f says in nine
  CHECK(DecodeOp(longer).status().code() == StatusCode::kCorruption);
  // seq 300 as ac 02 is minimal; ac 82 00 is the same number, longer.
  std::string seq = record;
  size_t s = 2 + 16;
  REQUIRE(seq.substr(s, 2) == "\xac\x02");
  seq.replace(s, 2, std::string("\xac\x82\x00", 3));
  CHECK(DecodeOp(seq).status().code() == StatusCode::kCorruption);
  // Every single-bit change that still decodes re-encodes to exactly its bytes.
  for (size_t i = 0; i < record.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string bad = record;
      bad[i] = static_cast<char>(bad[i] ^ (1 << bit));
      auto r = DecodeOp(bad);
      if (r.ok()) CHECK(EncodeOp(*r) == bad);
    }
  }
}

TEST_CASE("a record of a newer version is refused with a message that says so") {
  std::string record = EncodeOp(SampleOp());
  record[0] = static_cast<char>(kOpRecordVersion + 1);
  auto r = DecodeOp(record);
  CHECK(r.status().code() == StatusCode::kInvalidArgument);
  CHECK(r.status().message().find("newer") != std::string::npos);
}

}  // namespace
}  // namespace relais::sync
