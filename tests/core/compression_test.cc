#include "core/compression.h"

#include <doctest/doctest.h>

#include "core/crypto.h"

using namespace relais;
using namespace relais::core;

TEST_CASE("zstd round-trips data written in many small pieces") {
  std::string input;
  for (int i = 0; i < 20000; ++i) input += "{\"id\":" + std::to_string(i) + ",\"title\":\"Exercice de maths\"}\n";
  auto c = ZstdCompressor::Create(3);
  REQUIRE(c.ok());
  std::string frame;
  for (size_t at = 0; at < input.size(); at += 777) REQUIRE((*c)->Write(input.substr(at, 777), &frame).ok());
  REQUIRE((*c)->Finish(&frame).ok());
  CHECK(frame.size() < input.size() / 5);

  auto d = ZstdDecompressor::Create(input.size());
  REQUIRE(d.ok());
  std::string output;
  for (size_t at = 0; at < frame.size(); at += 101) REQUIRE((*d)->Write(frame.substr(at, 101), &output).ok());
  REQUIRE((*d)->Finish().ok());
  CHECK(output == input);
}

TEST_CASE("zstd refuses to expand past the announced bound") {
  std::string zeros(10 << 20, '\0');
  auto frame = ZstdCompress(zeros);
  REQUIRE(frame.ok());
  CHECK(frame->size() < 4096);
  auto out = ZstdDecompress(*frame, 1 << 20);
  CHECK(out.status().code() == StatusCode::kTooLarge);
  CHECK(ZstdDecompress(*frame, zeros.size()).ok());
}

TEST_CASE("zstd reports truncated frames, garbage and trailing bytes as corruption") {
  auto frame = ZstdCompress(RandomBytes(5000) + std::string(5000, 'x'));
  REQUIRE(frame.ok());
  CHECK(ZstdDecompress(frame->substr(0, frame->size() - 1), 1 << 20).status().code() == StatusCode::kCorruption);
  CHECK(ZstdDecompress("not zstd at all", 1 << 20).status().code() == StatusCode::kCorruption);
  CHECK(ZstdDecompress(*frame + "x", 1 << 20).status().code() == StatusCode::kCorruption);
}
