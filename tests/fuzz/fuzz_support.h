// tests/fuzz/fuzz_support.h — what the libFuzzer targets share (docs/fuzzing.md).
//
// Each target builds its seed inputs from the real encoders (or from real
// headers and files) in code, so the committed corpus can be regenerated:
//   RELAIS_FUZZ_SEEDS=tests/fuzz/corpus/<name> build-fuzz/relais_<name>_fuzz
// writes them there as seed-NNN and exits. Check() is the oracle's assert: it
// aborts (libFuzzer then saves the input) with a message saying which promise broke.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace relais::fuzzing {

inline void Check(bool ok, const char* promise) {
  if (ok) return;
  std::fprintf(stderr, "fuzz oracle: broken promise: %s\n", promise);
  std::abort();
}

// When RELAIS_FUZZ_SEEDS names a folder: writes `seeds` into it and exits.
inline void WriteSeedsIfAsked(const std::vector<std::string>& seeds) {
  const char* dir = std::getenv("RELAIS_FUZZ_SEEDS");
  if (!dir) return;
  std::filesystem::create_directories(dir);
  for (size_t i = 0; i < seeds.size(); ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "seed-%03zu", i);
    std::ofstream(std::filesystem::path(dir) / name, std::ios::binary) << seeds[i];
  }
  std::fprintf(stderr, "%zu seeds written to %s\n", seeds.size(), dir);
  std::exit(0);
}

// Applies edits to `base`: (offset u16 little-endian, xor u8) triples, and a
// final byte that may truncate. How a target changes a valid signed structure.
inline std::string Edit(std::string base, const uint8_t* data, size_t size) {
  size_t i = 0;
  for (; i + 3 <= size; i += 3) {
    size_t at = (data[i] | (data[i + 1] << 8)) % (base.size() + 1);
    if (at < base.size()) base[at] = static_cast<char>(base[at] ^ data[i + 2]);
  }
  if (i < size) base.resize(base.size() - data[i] % (base.size() + 1) * (data[i] & 1));
  return base;
}

// Splits `text` at '\n' into exactly `n` fields (missing ones empty; the last takes the rest).
inline std::vector<std::string> Fields(std::string_view text, size_t n) {
  std::vector<std::string> out;
  while (out.size() + 1 < n) {
    size_t nl = text.find('\n');
    out.emplace_back(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
  }
  out.emplace_back(text);
  return out;
}

}  // namespace relais::fuzzing
