#include "sync/op_codec.h"

#include <cstring>

#include "core/crypto.h"
#include "sync/op_format.h"

namespace relais::sync {
namespace {

void PutVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void PutFixed64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void PutString(std::string& out, std::string_view s) {
  PutVarint(out, s.size());
  out.append(s);
}

int HexDigit(char c) { return c <= '9' ? c - '0' : c - 'a' + 10; }

// 16 bytes from a canonical UUID (checked by the caller).
void PutUuid(std::string& out, std::string_view uuid) {
  int high = -1;
  for (char c : uuid) {
    if (c == '-') continue;
    if (high < 0) {
      high = HexDigit(c);
    } else {
      out.push_back(static_cast<char>((high << 4) | HexDigit(c)));
      high = -1;
    }
  }
}

void PutValue(std::string& out, const core::SqlValue& v) {
  if (const auto* i = std::get_if<int64_t>(&v)) {
    out.push_back(static_cast<char>(kValueInt));
    uint64_t u = static_cast<uint64_t>(*i);
    PutVarint(out, (u << 1) ^ static_cast<uint64_t>(*i >> 63));
  } else if (const auto* d = std::get_if<double>(&v)) {
    out.push_back(static_cast<char>(kValueReal));
    uint64_t bits;
    std::memcpy(&bits, d, sizeof bits);
    PutFixed64(out, bits);
  } else if (const auto* t = std::get_if<std::string>(&v)) {
    if (core::IsUuid(*t)) {
      out.push_back(static_cast<char>(kValueUuid));
      PutUuid(out, *t);
    } else {
      out.push_back(static_cast<char>(kValueText));
      PutString(out, *t);
    }
  } else {
    out.push_back(static_cast<char>(kValueNull));
  }
}

// A bounds-checked cursor over a record.
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  bool done() const { return pos_ == data_.size(); }

  Result<uint8_t> Byte() {
    if (pos_ >= data_.size()) return Truncated();
    return static_cast<uint8_t>(data_[pos_++]);
  }
  Result<uint64_t> Varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      RELAIS_ASSIGN_OR_RETURN(uint8_t b, Byte());
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) {
        if (shift == 63 && b > 1) break;
        // A zero last byte after the first is a longer form of a shorter
        // number: refused, so that one operation has one encoding.
        if (shift > 0 && b == 0) break;
        return v;
      }
    }
    return Status::Corruption("operation record: a malformed number");
  }
  Result<uint64_t> Fixed64() {
    RELAIS_ASSIGN_OR_RETURN(std::string_view b, Bytes(8));
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(b[static_cast<size_t>(i)]);
    return v;
  }
  Result<std::string_view> Bytes(uint64_t n) {
    if (n > data_.size() - pos_) return Truncated();
    std::string_view out = data_.substr(pos_, n);
    pos_ += n;
    return out;
  }
  Result<std::string> String(uint64_t max) {
    RELAIS_ASSIGN_OR_RETURN(uint64_t n, Varint());
    if (n > max) return Status::Corruption("operation record: a string is too long");
    RELAIS_ASSIGN_OR_RETURN(std::string_view s, Bytes(n));
    return std::string(s);
  }
  Result<std::string> Uuid() {
    RELAIS_ASSIGN_OR_RETURN(std::string_view b, Bytes(16));
    static const char* kHex = "0123456789abcdef";
    std::string out;
    for (size_t i = 0; i < 16; ++i) {
      if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
      out.push_back(kHex[static_cast<uint8_t>(b[i]) >> 4]);
      out.push_back(kHex[static_cast<uint8_t>(b[i]) & 15]);
    }
    return out;
  }
  Result<core::SqlValue> Value() {
    RELAIS_ASSIGN_OR_RETURN(uint8_t tag, Byte());
    switch (tag) {
      case kValueNull:
        return core::SqlValue();
      case kValueInt: {
        RELAIS_ASSIGN_OR_RETURN(uint64_t z, Varint());
        return core::SqlValue(static_cast<int64_t>((z >> 1) ^ (~(z & 1) + 1)));
      }
      case kValueReal: {
        RELAIS_ASSIGN_OR_RETURN(uint64_t bits, Fixed64());
        double d;
        std::memcpy(&d, &bits, sizeof d);
        return core::SqlValue(d);
      }
      case kValueText: {
        RELAIS_ASSIGN_OR_RETURN(std::string s, String(kMaxTextLength));
        // A UUID travels as kValueUuid: the text form would not be canonical.
        if (core::IsUuid(s)) return Status::Corruption("operation record: a UUID encoded as text");
        return core::SqlValue(std::move(s));
      }
      case kValueUuid: {
        RELAIS_ASSIGN_OR_RETURN(std::string s, Uuid());
        return core::SqlValue(std::move(s));
      }
      default:
        return Status::Corruption("operation record: an unknown value type " + std::to_string(tag));
    }
  }

 private:
  static Status Truncated() { return Status::Corruption("operation record: truncated"); }
  std::string_view data_;
  size_t pos_ = 0;
};

bool ValidName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return true;
}

}  // namespace

std::string EncodeOp(const content::Op& op) {
  std::string out;
  out.reserve(64 + op.columns.size() * 24);
  out.push_back(static_cast<char>(kOpRecordVersion));
  out.push_back(static_cast<char>(op.kind));
  PutUuid(out, op.origin);
  PutVarint(out, static_cast<uint64_t>(op.seq));
  PutFixed64(out, op.hlc);
  PutFixed64(out, op.base);
  PutString(out, op.table);
  PutVarint(out, op.key.size());
  for (const core::SqlValue& v : op.key) PutValue(out, v);
  PutVarint(out, op.columns.size());
  for (const auto& [name, value] : op.columns) {
    PutString(out, name);
    PutValue(out, value);
  }
  return out;
}

Result<content::Op> DecodeOp(std::string_view record) {
  Reader in(record);
  RELAIS_ASSIGN_OR_RETURN(uint8_t version, in.Byte());
  if (version != kOpRecordVersion)
    return Status::InvalidArgument(
        "operation record version " + std::to_string(version) +
        (version > kOpRecordVersion ? " is newer than this program knows: upgrade relais" : " is unknown"));
  content::Op op;
  RELAIS_ASSIGN_OR_RETURN(uint8_t kind, in.Byte());
  if (kind < 1 || kind > 3) return Status::Corruption("operation record: an unknown kind " + std::to_string(kind));
  op.kind = static_cast<content::Op::Kind>(kind);
  RELAIS_ASSIGN_OR_RETURN(op.origin, in.Uuid());
  RELAIS_ASSIGN_OR_RETURN(uint64_t seq, in.Varint());
  if (seq == 0 || seq > static_cast<uint64_t>(INT64_MAX)) return Status::Corruption("operation record: a bad seq");
  op.seq = static_cast<int64_t>(seq);
  RELAIS_ASSIGN_OR_RETURN(op.hlc, in.Fixed64());
  RELAIS_ASSIGN_OR_RETURN(op.base, in.Fixed64());
  if (op.hlc > static_cast<uint64_t>(INT64_MAX) || op.base > static_cast<uint64_t>(INT64_MAX))
    return Status::Corruption("operation record: a clock value out of range");
  RELAIS_ASSIGN_OR_RETURN(op.table, in.String(kMaxNameLength));
  if (!ValidName(op.table)) return Status::Corruption("operation record: a bad table name");
  RELAIS_ASSIGN_OR_RETURN(uint64_t nkey, in.Varint());
  if (nkey == 0 || nkey > kMaxKeyValues) return Status::Corruption("operation record: a bad key");
  for (uint64_t i = 0; i < nkey; ++i) {
    RELAIS_ASSIGN_OR_RETURN(core::SqlValue v, in.Value());
    op.key.push_back(std::move(v));
  }
  RELAIS_ASSIGN_OR_RETURN(uint64_t ncol, in.Varint());
  if (ncol > kMaxColumns) return Status::Corruption("operation record: too many columns");
  for (uint64_t i = 0; i < ncol; ++i) {
    RELAIS_ASSIGN_OR_RETURN(std::string name, in.String(kMaxNameLength));
    if (!ValidName(name)) return Status::Corruption("operation record: a bad column name");
    if (!op.columns.empty() && op.columns.back().first >= name)
      return Status::Corruption("operation record: columns out of order");
    RELAIS_ASSIGN_OR_RETURN(core::SqlValue v, in.Value());
    op.columns.emplace_back(std::move(name), std::move(v));
  }
  if (op.kind == content::Op::Kind::kDelete && !op.columns.empty())
    return Status::Corruption("operation record: a deletion with columns");
  if (!in.done()) return Status::Corruption("operation record: trailing bytes");
  return op;
}

}  // namespace relais::sync
