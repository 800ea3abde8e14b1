// tests/system/sync_harness.cc — see sync_harness.h.

#include "tests/system/sync_harness.h"

#include "content/school.h"
#include "core/clock.h"
#include "core/crypto.h"
#include "sync/replica.h"

namespace relais::testing {

namespace fs = std::filesystem;

ScratchDir::ScratchDir(const std::string& prefix)
    : path(fs::temp_directory_path() / (prefix + "-" + core::RandomToken(8))) {
  fs::create_directories(path);
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  fs::remove_all(path, ec);
}

Result<std::string> DumpBox(const fs::path& data_dir) {
  core::SystemClock clock;
  RELAIS_ASSIGN_OR_RETURN(auto school, content::School::Open(data_dir, clock));
  auto db = school->db().Reader();
  return sync::DumpSyncedTables(*db);
}

std::string FirstLine(const std::string& text) { return text.substr(0, text.find('\n')); }

}  // namespace relais::testing
