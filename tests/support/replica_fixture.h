// A replica for sync tests: a school in a temporary folder with its own fake
// clock, and helpers to exchange operations between replicas.
#pragma once

#include <doctest/doctest.h>

#include <filesystem>
#include <memory>
#include <string>

#include "content/school.h"
#include "core/crypto.h"
#include "sync/replica.h"

namespace relais::sync {

class TestReplica {
 public:
  explicit TestReplica(int64_t now = 1790000000)
      : dir_(std::filesystem::temp_directory_path() / ("relais-sync-" + core::RandomToken(8))), clock_(now) {
    std::filesystem::create_directories(dir_);
    content::School::Options options;
    options.db_readers = 2;
    auto school = content::School::Open(dir_, clock_, options);
    REQUIRE_MESSAGE(school.ok(), school.status().ToString());
    school_ = std::move(school).value();
    replica_ = std::make_unique<sync::Replica>(*school_);
  }
  ~TestReplica() {
    replica_.reset();
    school_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  content::School& school() { return *school_; }
  content::School* operator->() { return school_.get(); }
  sync::Replica& replica() { return *replica_; }
  core::FakeClock& clock() { return clock_; }
  const std::string& origin() { return replica_->origin(); }

  std::string Dump() {
    auto db = school_->db().Reader();
    auto dump = sync::DumpSyncedTables(*db);
    REQUIRE_MESSAGE(dump.ok(), dump.status().ToString());
    return *dump;
  }
  content::VersionVector Held() {
    auto held = replica_->Held();
    REQUIRE_MESSAGE(held.ok(), held.status().ToString());
    return *held;
  }
  std::vector<content::Op> AllOps() {
    auto ops = replica_->OpsSince({}, 1u << 30);
    REQUIRE_MESSAGE(ops.ok(), ops.status().ToString());
    return *ops;
  }
  content::Viewer AddUser(const std::string& login, content::Role role,
                          std::optional<std::string> class_name = std::nullopt) {
    content::NewUser nu;
    nu.login = login;
    nu.role = role;
    nu.password = "correct-horse-42";
    nu.class_name = std::move(class_name);
    auto u = school_->accounts().CreateUser(nullptr, nu);
    REQUIRE_MESSAGE(u.ok(), u.status().ToString());
    return content::Viewer{u->id, u->login, u->role, "test"};
  }

 private:
  std::filesystem::path dir_;
  core::FakeClock clock_;
  std::unique_ptr<content::School> school_;
  std::unique_ptr<sync::Replica> replica_;
};

// Applies to `to` everything `from` holds that `to` lacks, in one batch.
inline sync::ApplyReport Push(TestReplica& from, TestReplica& to) {
  auto ops = from.replica().OpsSince(to.Held(), 1u << 30);
  REQUIRE_MESSAGE(ops.ok(), ops.status().ToString());
  auto report = to.replica().Apply(*ops);
  REQUIRE_MESSAGE(report.ok(), report.status().ToString());
  return *report;
}

}  // namespace relais::sync
