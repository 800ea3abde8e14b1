#include "content/school.h"

#include "content/audit.h"
#include "content/schema.h"
#include "core/files.h"

namespace relais::content {

Result<std::unique_ptr<School>> School::Open(const std::filesystem::path& data_dir, const core::Clock& clock,
                                             Options options) {
  RELAIS_RETURN_IF_ERROR(core::MakeDirs(data_dir));
  std::unique_ptr<School> school(new School(data_dir, clock));
  {
    // Migrate on a private connection before the pool opens its readers.
    RELAIS_ASSIGN_OR_RETURN(auto db, core::Db::Open(data_dir / "relais.db"));
    RELAIS_RETURN_IF_ERROR(core::Migrate(*db, Migrations()));
  }
  RELAIS_ASSIGN_OR_RETURN(school->db_, core::DbPool::Open(data_dir / "relais.db", options.db_readers));
  if (options.capture_changes) {
    auto writer = school->db_->Writer();
    RELAIS_ASSIGN_OR_RETURN(school->journal_, Journal::Attach(*writer, clock));
  }
  RELAIS_ASSIGN_OR_RETURN(school->blobs_, BlobStore::Open(data_dir, options.clear_partial_uploads));
  school->accounts_ = std::make_unique<Accounts>(*school->db_, clock);
  school->files_ = std::make_unique<FileRecords>(*school->db_, *school->blobs_, clock);
  school->homework_ = std::make_unique<HomeworkStore>(*school->db_, clock);
  school->courses_ = std::make_unique<CourseStore>(*school->db_, clock);
  school->submissions_ = std::make_unique<SubmissionStore>(*school->db_, clock);
  school->login_cards_ = std::make_unique<LoginCards>(*school->db_, clock);
  return school;
}

Status School::PurgeOldAudit() {
  constexpr int64_t kTwelveMonths = 365 * 24 * 3600;
  auto db = db_->Writer();
  auto purged = PurgeAudit(*db, core::FormatTime(clock_.Now() - kTwelveMonths));
  return purged.status();
}

Status School::CheckIntegrity() {
  auto db = db_->Reader();
  RELAIS_ASSIGN_OR_RETURN(auto q, db->Prepare("PRAGMA integrity_check"));
  RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return Status::Internal("integrity_check returned nothing");
  std::string answer = q.Text(0);
  if (answer != "ok") return Status::Corruption("integrity_check: " + answer);
  return Status::Ok();
}

}  // namespace relais::content
