// core/compression.h — zstd, streamed; the only module that includes zstd.h.
//
// A compressor turns any number of Write() calls into one zstd frame; a
// decompressor turns a frame back, refusing to produce more than a bound
// fixed up front (a small hostile input must not expand into gigabytes).
// Both keep memory bounded by zstd's window, whatever the input size.
// Each object is used by one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

namespace relais::core {

class ZstdCompressor {
 public:
  // `level` is zstd's, 1 (fast) to 19 (small); 3 is zstd's default.
  static Result<std::unique_ptr<ZstdCompressor>> Create(int level = 3);
  ~ZstdCompressor();
  // Compresses `data`, appending whatever compressed bytes are ready to `out`.
  Status Write(std::string_view data, std::string* out);
  // Ends the frame, appending the remaining bytes to `out`. Spent afterwards.
  Status Finish(std::string* out);

 private:
  ZstdCompressor() = default;
  struct State;
  std::unique_ptr<State> state_;
};

class ZstdDecompressor {
 public:
  // Refuses (TooLarge) to produce more than `max_output` bytes in total.
  static Result<std::unique_ptr<ZstdDecompressor>> Create(uint64_t max_output);
  ~ZstdDecompressor();
  // Decompresses `data`, appending the output to `out`. Corruption on bytes
  // that are not zstd, or on data after the end of the frame.
  Status Write(std::string_view data, std::string* out);
  // Pull-style step for bounded memory: consumes some of *input (advancing
  // it) and appends at most `max_out` bytes to `out`. Call again while input
  // remains or while the previous call produced exactly `max_out` bytes (more
  // may be pending inside zstd). Same errors as Write.
  Status Step(std::string_view* input, std::string* out, size_t max_out);
  // Corruption unless exactly one whole frame was written.
  Status Finish();
  uint64_t total_output() const { return total_; }

 private:
  ZstdDecompressor() = default;
  struct State;
  std::unique_ptr<State> state_;
  uint64_t max_ = 0;
  uint64_t total_ = 0;
  bool frame_done_ = false;
};

// One-shot helpers over the streaming classes.
Result<std::string> ZstdCompress(std::string_view data, int level = 3);
Result<std::string> ZstdDecompress(std::string_view data, uint64_t max_output);

}  // namespace relais::core
