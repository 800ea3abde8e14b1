// sync/byte_io.h — little-endian encoding, and byte sources and sinks.
//
// ByteWriter appends fixed-width little-endian fields to a string;
// ByteReader takes them off a string_view and remembers the first overrun,
// so a parser reads every field and checks ok() once at the end.
// ByteSource/ByteSink let the envelope code stream from and to files or
// memory alike.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "core/files.h"
#include "core/status.h"

namespace relais::sync {

class ByteWriter {
 public:
  explicit ByteWriter(std::string* out) : out_(out) {}
  void U8(uint8_t v) { out_->push_back(static_cast<char>(v)); }
  void U16(uint16_t v) { Le(v, 2); }
  void U32(uint32_t v) { Le(v, 4); }
  void U64(uint64_t v) { Le(v, 8); }
  void I64(int64_t v) { Le(static_cast<uint64_t>(v), 8); }
  void Bytes(std::string_view b) { out_->append(b); }
  template <size_t N>
  void Bytes(const std::array<uint8_t, N>& a) {
    out_->append(reinterpret_cast<const char*>(a.data()), N);
  }

 private:
  void Le(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) out_->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
  std::string* out_;
};

class ByteReader {
 public:
  explicit ByteReader(std::string_view in) : in_(in) {}
  uint8_t U8() { return static_cast<uint8_t>(Le(1)); }
  uint16_t U16() { return static_cast<uint16_t>(Le(2)); }
  uint32_t U32() { return static_cast<uint32_t>(Le(4)); }
  uint64_t U64() { return Le(8); }
  int64_t I64() { return static_cast<int64_t>(Le(8)); }
  // Empty (and !ok()) when fewer than n bytes remain.
  std::string_view Bytes(size_t n) {
    if (!ok_ || in_.size() - pos_ < n) {
      ok_ = false;
      return {};
    }
    std::string_view b = in_.substr(pos_, n);
    pos_ += n;
    return b;
  }
  template <size_t N>
  std::array<uint8_t, N> Array() {
    std::array<uint8_t, N> a{};
    std::string_view b = Bytes(N);
    if (ok_)
      for (size_t i = 0; i < N; ++i) a[i] = static_cast<uint8_t>(b[i]);
    return a;
  }
  bool ok() const { return ok_; }
  size_t position() const { return pos_; }
  size_t remaining() const { return ok_ ? in_.size() - pos_ : 0; }
  // True when every byte was read and nothing overran.
  bool done() const { return ok_ && pos_ == in_.size(); }

 private:
  uint64_t Le(int n) {
    std::string_view b = Bytes(static_cast<size_t>(n));
    uint64_t v = 0;
    if (ok_)
      for (int i = n - 1; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(b[static_cast<size_t>(i)]);
    return v;
  }
  std::string_view in_;
  size_t pos_ = 0;
  bool ok_ = true;
};

// Random-access bytes to read a bundle from.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  virtual uint64_t size() const = 0;
  // Replaces *out with exactly `n` bytes at `offset`; Corruption if the
  // source ends first (it was truncated under us).
  virtual Status ReadAt(uint64_t offset, size_t n, std::string* out) const = 0;
};

// Borrows `data`, which must outlive the source.
class StringSource final : public ByteSource {
 public:
  explicit StringSource(std::string_view data) : data_(data) {}
  uint64_t size() const override { return data_.size(); }
  Status ReadAt(uint64_t offset, size_t n, std::string* out) const override;

 private:
  std::string_view data_;
};

class FileSource final : public ByteSource {
 public:
  static Result<std::unique_ptr<FileSource>> Open(const std::filesystem::path& path);
  uint64_t size() const override { return reader_->size(); }
  Status ReadAt(uint64_t offset, size_t n, std::string* out) const override;

 private:
  explicit FileSource(std::unique_ptr<core::FileReader> r) : reader_(std::move(r)) {}
  std::unique_ptr<core::FileReader> reader_;
};

// Where a writer's bytes go, in order.
class ByteSink {
 public:
  virtual ~ByteSink() = default;
  virtual Status Append(std::string_view data) = 0;
};

class StringSink final : public ByteSink {
 public:
  Status Append(std::string_view data) override {
    data_.append(data);
    return Status::Ok();
  }
  std::string& data() { return data_; }

 private:
  std::string data_;
};

// Appends to a StreamingFile, which must outlive the sink; the caller commits it.
class StreamingFileSink final : public ByteSink {
 public:
  explicit StreamingFileSink(core::StreamingFile* file) : file_(file) {}
  Status Append(std::string_view data) override { return file_->Append(data); }

 private:
  core::StreamingFile* file_;
};

}  // namespace relais::sync
