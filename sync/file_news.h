// sync/file_news.h — what a box tells the gateway about file bytes when it
// asks for an answer (POST /hub/v1/sync, docs/hub-api.md), shared by the box
// that writes it and the gateway that reads it.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace relais::sync {

// What a box says about files when it asks for an answer: the blobs it holds
// but the gateway is not known to hold completely (`have`), and the blobs
// its files rows name that it lacks and has no manifest for (`want`).
struct FileNews {
  std::vector<std::string> have;
  std::vector<std::string> want;
};
// At most this many blob ids in each list of a request (more wait for the
// next round).
inline constexpr size_t kMaxFileNews = 5000;

}  // namespace relais::sync
