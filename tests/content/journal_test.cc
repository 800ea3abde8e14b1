// The change journal: every write of the stores is captured, in its own
// transaction, as operations with gap-free sequence numbers and a hybrid
// logical clock that never goes back.
#include "content/journal.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <functional>
#include <set>

#include "content/school.h"
#include "core/crypto.h"

namespace relais::content {
namespace {

namespace fs = std::filesystem;

class JournalSchool {
 public:
  JournalSchool() : dir_(fs::temp_directory_path() / ("relais-journal-" + core::RandomToken(8))) {
    fs::create_directories(dir_);
    auto school = School::Open(dir_, clock_);
    REQUIRE_MESSAGE(school.ok(), school.status().ToString());
    school_ = std::move(school).value();
  }
  ~JournalSchool() {
    school_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  School* operator->() { return school_.get(); }
  core::FakeClock& clock() { return clock_; }

  Viewer AddUser(const std::string& login, Role role, std::optional<std::string> class_name = std::nullopt) {
    NewUser nu;
    nu.login = login;
    nu.role = role;
    nu.password = "correct-horse-42";
    nu.class_name = std::move(class_name);
    auto u = school_->accounts().CreateUser(nullptr, nu);
    REQUIRE_MESSAGE(u.ok(), u.status().ToString());
    return Viewer{u->id, u->login, u->role, "test"};
  }
  // Every operation held, oldest first.
  std::vector<Op> Ops() {
    auto db = school_->db().Reader();
    auto ops = OpsSince(*db, {}, 1000000);
    REQUIRE_MESSAGE(ops.ok(), ops.status().ToString());
    return *ops;
  }

 private:
  fs::path dir_;
  core::FakeClock clock_;
  std::unique_ptr<School> school_;
};

TEST_CASE("a write and its operation commit together: a rolled-back write leaves no operation") {
  JournalSchool school;
  size_t before = school.Ops().size();
  {
    auto db = school->db().Writer();
    core::Transaction txn(*db);
    REQUIRE(txn.status().ok());
    auto q = db->Query("INSERT INTO classes (id, name, created_at, updated_at) VALUES (?1, '6e B', 'x', 'x')",
                       core::NewUuid());
    REQUIRE(q.ok());
    REQUIRE(q->Run().ok());
    // No Commit: rolled back.
  }
  CHECK(school.Ops().size() == before);
  std::string id = core::NewUuid();
  {
    auto db = school->db().Writer();
    core::Transaction txn(*db);
    auto q = db->Query("INSERT INTO classes (id, name, created_at, updated_at) VALUES (?1, '6e B', 'x', 'x')", id);
    REQUIRE(q->Run().ok());
    REQUIRE(txn.Commit().ok());
  }
  std::vector<Op> ops = school.Ops();
  REQUIRE(ops.size() == before + 1);
  const Op& op = ops.back();
  CHECK(op.origin == school->journal().origin());
  CHECK(op.seq == static_cast<int64_t>(before + 1));
  CHECK(op.table == "classes");
  CHECK(op.kind == Op::Kind::kInsert);
  CHECK(op.key == std::vector<core::SqlValue>{id});
  CHECK(op.columns == std::vector<core::Column>{{"author_id", core::SqlValue()},
                                                {"created_at", std::string("x")},
                                                {"name", std::string("6e B")},
                                                {"updated_at", std::string("x")}});
}

TEST_CASE("sequence numbers have no gap even when a write fails half-way") {
  JournalSchool school;
  REQUIRE(school->accounts().CreateClass(nullptr, "6e A").ok());
  // A second class of the same name fails inside its transaction.
  CHECK(!school->accounts().CreateClass(nullptr, "6E A").ok());
  REQUIRE(school->accounts().CreateClass(nullptr, "6e B").ok());
  std::vector<Op> ops = school.Ops();
  REQUIRE(ops.size() == 2);
  CHECK(ops[0].seq == 1);
  CHECK(ops[1].seq == 2);
  auto db = school->db().Reader();
  auto held = HeldVersions(*db);
  REQUIRE(held.ok());
  CHECK(held->at(school->journal().origin()) == 2);
}

TEST_CASE("every store's writes to synced tables are captured, and local tables are not") {
  JournalSchool school;
  auto klass = school->accounts().CreateClass(nullptr, "5e C");
  REQUIRE(klass.ok());
  Viewer teacher = school.AddUser("prof", Role::kTeacher, "5e C");
  Viewer student = school.AddUser("eleve", Role::kStudent, "5e C");
  Viewer other = school.AddUser("autre", Role::kStudent);
  auto blob = school->blobs().Put("du texte");
  REQUIRE(blob.ok());
  std::string homework_id, course_id, section_id, resource_id, submission_id, file_id;

  struct Step {
    const char* what;
    std::function<Status()> run;
    std::set<std::string> tables;  // exactly the tables it must produce operations for
  };
  std::vector<Step> steps = {
      {"create a class", [&] { return school->accounts().CreateClass(nullptr, "4e D").status(); }, {"classes"}},
      {"create a user in a class",
       [&] {
         school.AddUser("nouveau", Role::kStudent, "4e D");
         return Status::Ok();
       },
       {"users", "class_members"}},
      {"add a member",
       [&] { return school->accounts().AddMember(nullptr, klass->id, other.id).status(); },
       {"class_members"}},
      {"record a file",
       [&] {
         auto f = school->files().Record(teacher, *blob, "text/plain", "consignes.txt");
         if (f.ok()) file_id = f->id;
         return f.status();
       },
       {"files"}},
      {"create homework with an attachment",
       [&] {
         HomeworkInput in;
         in.class_id = klass->id;
         in.subject = "Maths";
         in.title = "Fractions";
         in.due_at = school.clock().Now() + 86400;
         in.published = true;
         in.attachments = {file_id};
         auto h = school->homework().Create(teacher, in);
         if (h.ok()) homework_id = h->id;
         return h.status();
       },
       {"homework", "homework_attachments"}},
      {"edit homework and drop its attachment",
       [&] {
         HomeworkPatch p;
         p.title = "Fractions (suite)";
         p.attachments = std::vector<std::string>{};
         return school->homework().Update(teacher, homework_id, p).status();
       },
       {"homework", "homework_attachments"}},
      {"hand in",
       [&] {
         auto s = school->submissions().HandIn(student, homework_id, "ma réponse", {});
         if (s.ok()) submission_id = s->id;
         return s.status();
       },
       {"submissions", "submission_versions"}},
      {"return with feedback and a file",
       [&] {
         FeedbackInput in;
         in.comment = "Bien";
         in.grade = 15;
         in.files = {file_id};
         return school->submissions().Return(teacher, submission_id, in).status();
       },
       {"feedback", "feedback_files", "submissions"}},
      {"delete homework", [&] { return school->homework().Delete(teacher, homework_id); }, {"homework"}},
      {"create a course",
       [&] {
         auto c = school->courses().Create(teacher, klass->id, "Géométrie");
         if (c.ok()) course_id = c->id;
         return c.status();
       },
       {"courses"}},
      {"add a section",
       [&] {
         auto s = school->courses().AddSection(teacher, course_id, "Chapitre 1", std::nullopt);
         if (s.ok()) section_id = s->id;
         return s.status();
       },
       {"sections"}},
      {"add a resource",
       [&] {
         ResourceInput in;
         in.kind = "text";
         in.title = "Rappel";
         in.body = "Un triangle a trois côtés.";
         auto r = school->courses().AddResource(teacher, section_id, in);
         if (r.ok()) resource_id = r->id;
         return r.status();
       },
       {"resources"}},
      {"delete a resource", [&] { return school->courses().DeleteResource(teacher, resource_id); }, {"resources"}},
      {"delete a course", [&] { return school->courses().Delete(teacher, course_id); }, {"courses"}},
      {"change a password",
       [&] { return school->accounts().SetPassword(nullptr, "eleve", "another-horse-43"); },
       {"users"}},
      {"end an account", [&] { return school->accounts().EndAccount(nullptr, other.id); }, {"users"}},
      {"log in (a local session)",
       [&] {
         auto u = school->accounts().CheckPassword("prof", "correct-horse-42");
         if (!u.ok()) return u.status();
         return school->accounts().CreateSession(*u, 3600, "test").status();
       },
       {}},
  };
  for (const Step& step : steps) {
    CAPTURE(step.what);
    size_t before = school.Ops().size();
    Status st = step.run();
    REQUIRE_MESSAGE(st.ok(), st.ToString());
    std::vector<Op> ops = school.Ops();
    std::set<std::string> tables;
    for (size_t i = before; i < ops.size(); ++i) tables.insert(ops[i].table);
    CHECK(tables == step.tables);
  }
}

TEST_CASE("the journal's clock keeps growing when the wall clock jumps back three days") {
  JournalSchool school;
  REQUIRE(school->accounts().CreateClass(nullptr, "6e A").ok());
  school.clock().Advance(-3 * 86400);
  REQUIRE(school->accounts().CreateClass(nullptr, "6e B").ok());
  school.clock().Advance(60);
  REQUIRE(school->accounts().CreateClass(nullptr, "6e C").ok());
  std::vector<Op> ops = school.Ops();
  REQUIRE(ops.size() == 3);
  CHECK(ops[1].hlc > ops[0].hlc);
  CHECK(ops[2].hlc > ops[1].hlc);
  CHECK(HlcMs(ops[0].hlc) == static_cast<uint64_t>(school.clock().Now() + 3 * 86400 - 60) * 1000);
}

TEST_CASE("a student's submission for a homework has the same id on every replica") {
  JournalSchool school;
  REQUIRE(school->accounts().CreateClass(nullptr, "5e C").ok());
  Viewer teacher = school.AddUser("prof", Role::kTeacher, "5e C");
  Viewer student = school.AddUser("eleve", Role::kStudent, "5e C");
  CHECK(student.id == core::DerivedUuid("user", {"eleve"}));
  auto klass = school->accounts().FindClass("5E c");
  REQUIRE(klass.ok());
  CHECK(klass->id == core::DerivedUuid("class", {"5e c"}));
  HomeworkInput in;
  in.class_id = klass->id;
  in.subject = "Maths";
  in.title = "Fractions";
  in.due_at = school.clock().Now() + 86400;
  in.published = true;
  auto h = school->homework().Create(teacher, in);
  REQUIRE(h.ok());
  auto s = school->submissions().HandIn(student, h->id, "réponse", {});
  REQUIRE(s.ok());
  CHECK(s->id == core::DerivedUuid("submission", {h->id, student.id}));
}

}  // namespace
}  // namespace relais::content
