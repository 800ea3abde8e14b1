// tests/system/sync_harness.h — what sync tests and benches share besides
// the processes (tests/support/process.h): a scratch directory, and a box's
// data read back once its processes are gone.
#pragma once

#include <filesystem>
#include <string>

#include "core/status.h"
#include "tests/support/process.h"

namespace relais::testing {

// A fresh directory under the system's temporary directory, removed with
// everything in it when destroyed.
struct ScratchDir {
  std::filesystem::path path;
  explicit ScratchDir(const std::string& prefix);
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
};

// Every synced row of the box in DATA (sync::DumpSyncedTables): boxes that
// converged have equal dumps. Opens the school in this process.
Result<std::string> DumpBox(const std::filesystem::path& data_dir);

// The first line of `text`, without its newline.
std::string FirstLine(const std::string& text);

}  // namespace relais::testing
