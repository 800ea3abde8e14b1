// tests/support/temp_dir.h — a fresh temporary directory, removed with its contents.
#pragma once

#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#include "core/crypto.h"
#include "core/files.h"

namespace relais::testing {

struct TempDir {
  std::filesystem::path path = std::filesystem::temp_directory_path() / ("relais-sync-" + core::RandomToken(8));
  TempDir() { std::filesystem::create_directories(path); }
  ~TempDir() { std::filesystem::remove_all(path); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  // Writes `data` to `name` inside the directory and returns its path.
  std::filesystem::path Write(const std::string& name, const std::string& data) const {
    REQUIRE(core::WriteFileAtomic(path / name, data).ok());
    return path / name;
  }
};

}  // namespace relais::testing
