// content/school.h — one school's data: the database, the blob store, and the
// stores that read and write them with access checks.
//
// A School owns its DbPool and BlobStore; the stores borrow them. All methods
// of the stores are thread-safe (the pool serialises writers).
#pragma once

#include <filesystem>
#include <memory>

#include "content/accounts.h"
#include "content/blob_store.h"
#include "content/courses.h"
#include "content/file_records.h"
#include "content/homework.h"
#include "content/journal.h"
#include "content/login_cards.h"
#include "content/submissions.h"
#include "core/clock.h"
#include "core/db.h"

namespace relais::content {

class School {
 public:
  struct Options {
    int db_readers = 4;
    // Only the server sets this (see BlobStore::Open).
    bool clear_partial_uploads = false;
    // Only bench/sync_capture turns this off, to measure what capture costs:
    // without it nothing this school writes can ever be synced.
    bool capture_changes = true;
  };
  // Opens (creating if needed) the school in `data_dir`: relais.db (migrated
  // to the newest schema) and the blob store. `clock` must outlive the School.
  static Result<std::unique_ptr<School>> Open(const std::filesystem::path& data_dir, const core::Clock& clock,
                                              Options options);
  static Result<std::unique_ptr<School>> Open(const std::filesystem::path& data_dir, const core::Clock& clock) {
    return Open(data_dir, clock, Options{});
  }

  core::DbPool& db() { return *db_; }
  const BlobStore& blobs() const { return *blobs_; }
  const core::Clock& clock() const { return clock_; }
  Accounts& accounts() { return *accounts_; }
  FileRecords& files() { return *files_; }
  HomeworkStore& homework() { return *homework_; }
  CourseStore& courses() { return *courses_; }
  SubmissionStore& submissions() { return *submissions_; }
  LoginCards& login_cards() { return *login_cards_; }
  // Captures every write of the stores (through the pool's writer) into the
  // op log; sync/ reads it. (Absent only with Options::capture_changes off.)
  const Journal& journal() const { return *journal_; }
  const std::filesystem::path& data_dir() const { return data_dir_; }

  // Deletes audit rows older than 12 months. Called at start-up and daily.
  Status PurgeOldAudit();
  // Runs PRAGMA integrity_check; OK when SQLite answers "ok".
  Status CheckIntegrity();

 private:
  School(std::filesystem::path data_dir, const core::Clock& clock) : data_dir_(std::move(data_dir)), clock_(clock) {}
  std::filesystem::path data_dir_;
  const core::Clock& clock_;
  std::unique_ptr<Journal> journal_;  // declared first: outlives the writer it captures
  std::unique_ptr<core::DbPool> db_;
  std::unique_ptr<BlobStore> blobs_;
  std::unique_ptr<Accounts> accounts_;
  std::unique_ptr<FileRecords> files_;
  std::unique_ptr<HomeworkStore> homework_;
  std::unique_ptr<CourseStore> courses_;
  std::unique_ptr<SubmissionStore> submissions_;
  std::unique_ptr<LoginCards> login_cards_;
};

}  // namespace relais::content
