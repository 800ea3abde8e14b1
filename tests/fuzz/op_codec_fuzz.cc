// tests/fuzz/op_codec_fuzz.cc — the change-journal operation record
// (sync/op_codec.h) on any bytes.
//
// Oracles, for every record DecodeOp accepts: EncodeOp gives back exactly the
// input (the encoding is canonical, so no two byte strings carry the same
// operation) and DecodeOp(EncodeOp(op)) == op (doubles compared by their
// bits); then every single-bit flip of the record, at each byte, is refused or
// decodes to an operation that re-encodes to the flipped bytes.
#include <cstdint>
#include <cstring>
#include <string>

#include "fuzz_support.h"
#include "sync/op_codec.h"

using namespace relais;
using relais::fuzzing::Check;

namespace {

bool SameValue(const core::SqlValue& a, const core::SqlValue& b) {
  if (a.index() != b.index()) return false;
  if (const double* x = std::get_if<double>(&a)) return std::memcmp(x, &std::get<double>(b), sizeof(double)) == 0;
  return a == b;
}

bool SameOp(const content::Op& a, const content::Op& b) {
  if (a.origin != b.origin || a.seq != b.seq || a.hlc != b.hlc || a.base != b.base || a.table != b.table ||
      a.kind != b.kind || a.key.size() != b.key.size() || a.columns.size() != b.columns.size())
    return false;
  for (size_t i = 0; i < a.key.size(); ++i)
    if (!SameValue(a.key[i], b.key[i])) return false;
  for (size_t i = 0; i < a.columns.size(); ++i)
    if (a.columns[i].first != b.columns[i].first || !SameValue(a.columns[i].second, b.columns[i].second)) return false;
  return true;
}

// The oracle for one accepted record.
void CheckAccepted(std::string_view record, const content::Op& op) {
  std::string again = sync::EncodeOp(op);
  Check(again == record, "an accepted record re-encodes to its own bytes");
  auto back = sync::DecodeOp(again);
  Check(back.ok() && SameOp(*back, op), "DecodeOp(EncodeOp(op)) == op");
}

content::Op MakeOp(content::Op::Kind kind, std::string table, std::vector<core::SqlValue> key,
                   std::vector<core::Column> columns) {
  content::Op op;
  op.origin = "6f1c2b7e-3d4a-4b8e-9f10-2a3b4c5d6e7f";
  op.seq = 42;
  op.hlc = (uint64_t{1764000000000} << 16) | 3;
  op.base = op.hlc - 70000;
  op.kind = kind;
  op.table = std::move(table);
  op.key = std::move(key);
  op.columns = std::move(columns);
  return op;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  using K = content::Op::Kind;
  const std::string id = "0b7d5c3e-8a41-4e6f-b2d9-7c1e5f3a9d20";
  fuzzing::WriteSeedsIfAsked({
      // What the journal records for the school's tables (content/journal.h).
      sync::EncodeOp(MakeOp(K::kInsert, "homework", {id},
                            {{"class_id", std::string("cm2-a")},
                             {"created_at", std::string("2026-11-30T18:00:00Z")},
                             {"due_at", int64_t{1764540000}},
                             {"text", std::string("Lire le chapitre 3 \xE2\x80\x94 r\xC3\xA9sum\xC3\xA9")},
                             {"weight", 1.5}})),
      sync::EncodeOp(
          MakeOp(K::kUpdate, "users", {id}, {{"disabled", int64_t{1}}, {"display_name", std::string("Zo\xC3\xA9")}})),
      sync::EncodeOp(MakeOp(K::kDelete, "class_members", {std::string("cm2-a"), id}, {})),
      sync::EncodeOp(MakeOp(K::kInsert, "grades", {int64_t{-7}, int64_t{INT64_MIN}},
                            {{"note", core::SqlValue()}, {"score", -0.0}, {"total", int64_t{INT64_MAX}}})),
  });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view record(reinterpret_cast<const char*>(data), size);
  auto op = sync::DecodeOp(record);
  if (!op.ok()) return 0;
  CheckAccepted(record, *op);
  std::string flipped(record);
  for (size_t i = 0; i < flipped.size() && i < 512; ++i) {
    for (uint8_t bit : {uint8_t{0x01}, uint8_t{0x80}, static_cast<uint8_t>(1u << (i % 8))}) {
      flipped[i] = static_cast<char>(flipped[i] ^ bit);
      auto changed = sync::DecodeOp(flipped);
      if (changed.ok()) CheckAccepted(flipped, *changed);
      flipped[i] = static_cast<char>(flipped[i] ^ bit);
    }
  }
  return 0;
}
