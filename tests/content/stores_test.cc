// The school's stores on a temporary data folder: accounts, rosters, homework
// visibility, hand-in versions, and the cleaning of typed text.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <limits>

#include "content/accounts.h"
#include "content/school.h"
#include "content/text.h"
#include "core/clock.h"
#include "core/crypto.h"

namespace relais::content {
namespace {

namespace fs = std::filesystem;

constexpr const char* kPassword = "correct-horse-42";

// A school in a fresh temporary folder, removed at the end of the test.
class TempSchool {
 public:
  TempSchool() : dir_(fs::temp_directory_path() / ("relais-stores-" + core::RandomToken(8))) {
    fs::create_directories(dir_);
    auto school = School::Open(dir_, clock_);
    REQUIRE_MESSAGE(school.ok(), school.status().ToString());
    school_ = std::move(school).value();
  }
  ~TempSchool() {
    school_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  School& operator*() { return *school_; }
  School* operator->() { return school_.get(); }
  core::FakeClock& clock() { return clock_; }

  ClassInfo AddClass(const std::string& name) {
    auto c = school_->accounts().CreateClass(nullptr, name);
    REQUIRE_MESSAGE(c.ok(), c.status().ToString());
    return *c;
  }
  Viewer AddUser(const std::string& login, Role role, std::optional<std::string> class_name = std::nullopt) {
    NewUser nu;
    nu.login = login;
    nu.role = role;
    nu.password = kPassword;
    nu.class_name = std::move(class_name);
    auto u = school_->accounts().CreateUser(nullptr, nu);
    REQUIRE_MESSAGE(u.ok(), u.status().ToString());
    return Viewer{u->id, u->login, u->role, "test"};
  }
  // A homework entry of `class_id` by `teacher`, due in `days` days.
  content::Homework AddHomework(const Viewer& teacher, const std::string& class_id, bool published, int64_t days = 2) {
    HomeworkInput in;
    in.class_id = class_id;
    in.subject = "Maths";
    in.title = "Exercices";
    in.due_at = clock_.Now() + days * 86400;
    in.published = published;
    auto h = school_->homework().Create(teacher, in);
    REQUIRE_MESSAGE(h.ok(), h.status().ToString());
    return *h;
  }

 private:
  fs::path dir_;
  core::FakeClock clock_;
  std::unique_ptr<School> school_;
};

// --- Accounts ----------------------------------------------------------------

TEST_CASE("a new user can log in with their password, and only with it") {
  TempSchool school;
  NewUser nu;
  nu.login = "  Lea.Martin ";
  nu.display_name = "Léa Martin";
  nu.password = kPassword;
  auto u = school->accounts().CreateUser(nullptr, nu);
  REQUIRE(u.ok());
  CHECK(u->login == "lea.martin");
  CHECK(u->display_name == "Léa Martin");
  CHECK(u->role == Role::kStudent);
  CHECK(core::IsUuid(u->id));
  CHECK(school->accounts().CheckPassword("lea.martin", kPassword).ok());
  CHECK(school->accounts().CheckPassword("LEA.MARTIN", kPassword).ok());
  auto wrong = school->accounts().CheckPassword("lea.martin", "not-it");
  auto unknown = school->accounts().CheckPassword("nobody", "not-it");
  CHECK(wrong.status().code() == StatusCode::kUnauthenticated);
  CHECK(unknown.status().code() == StatusCode::kUnauthenticated);
  CHECK(wrong.status().message() == unknown.status().message());
}

TEST_CASE("a user without a display name is shown by their login") {
  TempSchool school;
  NewUser nu;
  nu.login = "hugo";
  nu.password = kPassword;
  auto u = school->accounts().CreateUser(nullptr, nu);
  REQUIRE(u.ok());
  CHECK(u->display_name == "hugo");
}

TEST_CASE("a login that is taken, in any case, is a conflict") {
  TempSchool school;
  school.AddUser("hugo", Role::kStudent);
  NewUser nu;
  nu.login = "HUGO";
  nu.password = kPassword;
  auto again = school->accounts().CreateUser(nullptr, nu);
  CHECK(again.status().code() == StatusCode::kConflict);
  CHECK(school->accounts().ListUsers()->size() == 1);
}

TEST_CASE("bad logins and passwords are refused") {
  TempSchool school;
  for (const std::string& login : {std::string(""), std::string("two words"), std::string("élève"),
                                   std::string("semi;colon"), std::string(65, 'a'), std::string("a/b")}) {
    NewUser nu;
    nu.login = login;
    nu.password = kPassword;
    CHECK_MESSAGE(school->accounts().CreateUser(nullptr, nu).status().code() == StatusCode::kInvalidArgument,
                  "login '" << login << "'");
  }
  for (const std::string& password : {std::string(""), std::string("12345"), std::string(300, 'p')}) {
    NewUser nu;
    nu.login = "ok";
    nu.password = password;
    CHECK(school->accounts().CreateUser(nullptr, nu).status().code() == StatusCode::kInvalidArgument);
  }
  CHECK(school->accounts().ListUsers()->empty());
  NewUser edge;
  edge.login = std::string(64, 'a');
  edge.password = "123456";
  CHECK(school->accounts().CreateUser(nullptr, edge).ok());
}

TEST_CASE("a user for a class that does not exist is not created") {
  TempSchool school;
  NewUser nu;
  nu.login = "hugo";
  nu.password = kPassword;
  nu.class_name = "6e Z";
  CHECK(school->accounts().CreateUser(nullptr, nu).status().code() == StatusCode::kNotFound);
  CHECK(!school->accounts().FindUser("hugo").ok());
}

TEST_CASE("a changed password ends the user's sessions and the old password stops working") {
  TempSchool school;
  school.AddUser("hugo", Role::kStudent);
  auto user = school->accounts().FindUser("hugo");
  REQUIRE(user.ok());
  auto session = school->accounts().CreateSession(*user, 3600, "test");
  REQUIRE(session.ok());
  REQUIRE(school->accounts().LookupSession(session->token).ok());
  REQUIRE(school->accounts().SetPassword(nullptr, "hugo", "new-password-1").ok());
  CHECK(school->accounts().LookupSession(session->token).status().code() == StatusCode::kUnauthenticated);
  CHECK(!school->accounts().CheckPassword("hugo", kPassword).ok());
  CHECK(school->accounts().CheckPassword("hugo", "new-password-1").ok());
}

TEST_CASE("a user's classes are the classes they belong to; an admin's are all of them") {
  TempSchool school;
  school.AddClass("6e A");
  school.AddClass("6e B");
  Viewer student = school.AddUser("hugo", Role::kStudent, "6e B");
  Viewer admin = school.AddUser("root", Role::kAdmin);
  auto mine = school->accounts().ClassesOf(student);
  REQUIRE(mine.ok());
  REQUIRE(mine->size() == 1);
  CHECK((*mine)[0].name == "6e B");
  CHECK((*mine)[0].my_role == std::optional<std::string>("student"));
  CHECK(school->accounts().ClassesOf(admin)->size() == 2);
}

// --- Rosters -------------------------------------------------------------------

TEST_CASE("a roster may use semicolons, quotes, a BOM, a header line and CRLF line ends") {
  std::vector<RosterError> errors;
  auto lines = ParseRoster(
      "\xEF\xBB\xBFLogin;Nom;Rôle;Classe\r\n"
      "lea.martin;\"Martin; Léa\";élève;5e A\r\n"
      "\r\n"
      "# a comment line\r\n"
      "m.durand;\"M. \"\"Doc\"\" Durand\";Professeur;5e A\r\n",
      &errors);
  CHECK(errors.empty());
  REQUIRE(lines.size() == 2);
  CHECK(lines[0].line == 2);
  CHECK(lines[0].login == "lea.martin");
  CHECK(lines[0].display_name == "Martin; Léa");
  CHECK(lines[0].role == "student");
  CHECK(lines[0].class_name == "5e A");
  CHECK(lines[1].line == 5);
  CHECK(lines[1].display_name == "M. \"Doc\" Durand");
  CHECK(lines[1].role == "teacher");
}

TEST_CASE("a roster with commas and quoted commas is read field by field") {
  std::vector<RosterError> errors;
  auto lines = ParseRoster("hugo.petit, \"Petit, Hugo\" ,student, 4e B \nzoe,Zoé,student,4e B", &errors);
  CHECK(errors.empty());
  REQUIRE(lines.size() == 2);
  CHECK(lines[0].display_name == "Petit, Hugo");
  CHECK(lines[0].class_name == "4e B");
  CHECK(lines[1].login == "zoe");
}

TEST_CASE("roster errors name the line they are on") {
  struct Case {
    const char* text;
    int line;
  };
  const Case cases[] = {
      {"a,A,student,5e A\n\"b,B,student,5e A\n", 2},                     // unterminated quote
      {"a,A,student\n", 1},                                              // three fields
      {"a,A,student,5e A,extra\n", 1},                                   // five fields
      {"a,A,admin,5e A\n", 1},                                           // admins are not imported
      {"a,A,pirate,5e A\n", 1},                                          // unknown role
      {"a,A,student,5e A\n\nb,B,student,5e A\na,A2,student,5e A\n", 4},  // the same login and class twice
      {"Bad Login,A,student,5e A\n", 1},                                 // bad login
      {"a,,student,5e A\n", 1},                                          // no display name
      {"a,A,student,\n", 1},                                             // no class
  };
  for (const Case& c : cases) {
    std::vector<RosterError> errors;
    ParseRoster(c.text, &errors);
    INFO(c.text);
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].line == c.line);
    CHECK(!errors[0].message.empty());
  }
}

TEST_CASE("an empty roster, or one that is not UTF-8, is an error") {
  for (const char* text : {"", "login,name,role,class\n", "\n\n# nothing\n",
                           "a,L\xE9"
                           "a,student,5e A\n"}) {
    std::vector<RosterError> errors;
    auto lines = ParseRoster(text, &errors);
    CHECK(lines.empty());
    CHECK(errors.size() == 1);
  }
}

TEST_CASE("a student listed in two classes is created once and joins both") {
  TempSchool school;
  auto report = school->accounts().ImportRoster(nullptr, "zoe,Zoé,student,Chorale\nzoe,Zoé,student,5e A\n");
  REQUIRE(report.ok());
  CHECK(report->errors.empty());
  CHECK(report->created == 1);
  CHECK(report->classes_created == 2);
  auto user = school->accounts().FindUser("zoe");
  REQUIRE(user.ok());
  CHECK(school->accounts().ClassesOf(Viewer{user->id, "zoe", Role::kStudent, ""})->size() == 2);
}

TEST_CASE("re-importing a roster with a changed name updates it and keeps the password") {
  TempSchool school;
  auto first = school->accounts().ImportRoster(nullptr, "zoe,Zoe,student,5e A\n");
  REQUIRE(first.ok());
  REQUIRE(first->new_passwords.size() == 1);
  auto second = school->accounts().ImportRoster(nullptr, "zoe,Zoé Dupont,student,5e A\n");
  REQUIRE(second.ok());
  CHECK(second->updated == 1);
  CHECK(second->created == 0);
  CHECK(school->accounts().FindUser("zoe")->display_name == "Zoé Dupont");
  CHECK(school->accounts().CheckPassword("zoe", first->new_passwords[0].second).ok());
}

// --- Homework --------------------------------------------------------------------

TEST_CASE("a draft is seen by the class's teachers only, until it is published") {
  TempSchool school;
  ClassInfo a = school.AddClass("5e A");
  school.AddClass("5e B");
  Viewer teacher = school.AddUser("prof", Role::kTeacher, "5e A");
  Viewer student = school.AddUser("eleve", Role::kStudent, "5e A");
  Viewer outsider = school.AddUser("autre", Role::kStudent, "5e B");
  Viewer other_teacher = school.AddUser("prof.b", Role::kTeacher, "5e B");
  Homework draft = school.AddHomework(teacher, a.id, false);
  CHECK(school->homework().Get(teacher, draft.id).ok());
  CHECK(school->homework().Get(student, draft.id).status().code() == StatusCode::kNotFound);
  CHECK(school->homework().List(student, {})->empty());

  HomeworkPatch publish;
  publish.published = true;
  REQUIRE(school->homework().Update(teacher, draft.id, publish).ok());
  auto seen = school->homework().Get(student, draft.id);
  REQUIRE(seen.ok());
  REQUIRE(seen->mine.has_value());
  CHECK(seen->mine->status == "todo");
  CHECK(school->homework().List(student, {})->size() == 1);
  // Other classes never see it.
  CHECK(school->homework().Get(outsider, draft.id).status().code() == StatusCode::kNotFound);
  CHECK(school->homework().Get(other_teacher, draft.id).status().code() == StatusCode::kNotFound);
  CHECK(school->homework().List(outsider, {})->empty());
  CHECK(school->homework().Update(other_teacher, draft.id, publish).status().code() == StatusCode::kNotFound);
  CHECK(school->homework().Update(student, draft.id, publish).status().code() == StatusCode::kPermissionDenied);
}

TEST_CASE("homework instructions lose their markup and keep their text") {
  TempSchool school;
  ClassInfo a = school.AddClass("5e A");
  Viewer teacher = school.AddUser("prof", Role::kTeacher, "5e A");
  HomeworkInput in;
  in.class_id = a.id;
  in.subject = "  Français ";
  in.title = "Lecture";
  in.instructions = "<p>Lire <b>le chapitre 3</b></p><script>steal()</script>";
  in.due_at = school.clock().Now() + 86400;
  auto h = school->homework().Create(teacher, in);
  REQUIRE(h.ok());
  CHECK(h->subject == "Français");
  CHECK(h->instructions == "Lire le chapitre 3");
}

TEST_CASE("a deleted homework disappears for everyone") {
  TempSchool school;
  ClassInfo a = school.AddClass("5e A");
  Viewer teacher = school.AddUser("prof", Role::kTeacher, "5e A");
  Viewer student = school.AddUser("eleve", Role::kStudent, "5e A");
  Homework h = school.AddHomework(teacher, a.id, true);
  CHECK(school->homework().Delete(student, h.id).code() == StatusCode::kPermissionDenied);
  REQUIRE(school->homework().Delete(teacher, h.id).ok());
  CHECK(school->homework().Get(teacher, h.id).status().code() == StatusCode::kNotFound);
  CHECK(school->homework().List(teacher, {})->empty());
  CHECK(school->homework().List(student, {})->empty());
  CHECK(school->homework().Delete(teacher, h.id).code() == StatusCode::kNotFound);
}

TEST_CASE("the homework list is ordered by due date and filtered by a due-date window") {
  TempSchool school;
  ClassInfo a = school.AddClass("5e A");
  Viewer teacher = school.AddUser("prof", Role::kTeacher, "5e A");
  Homework late = school.AddHomework(teacher, a.id, true, 10);
  Homework soon = school.AddHomework(teacher, a.id, true, 1);
  Homework mid = school.AddHomework(teacher, a.id, true, 5);
  auto all = school->homework().List(teacher, {});
  REQUIRE(all->size() == 3);
  CHECK((*all)[0].id == soon.id);
  CHECK((*all)[1].id == mid.id);
  CHECK((*all)[2].id == late.id);
  HomeworkFilter window;
  window.from = school.clock().Now() + 2 * 86400;
  window.to = school.clock().Now() + 6 * 86400;
  auto some = school->homework().List(teacher, window);
  REQUIRE(some->size() == 1);
  CHECK((*some)[0].id == mid.id);
}

// --- Submissions ---------------------------------------------------------------------

TEST_CASE("each hand-in adds a version and the earlier ones are kept, newest first") {
  TempSchool school;
  ClassInfo a = school.AddClass("5e A");
  Viewer teacher = school.AddUser("prof", Role::kTeacher, "5e A");
  Viewer student = school.AddUser("eleve", Role::kStudent, "5e A");
  Homework h = school.AddHomework(teacher, a.id, true);
  for (int i = 1; i <= 3; ++i) {
    school.clock().Advance(60);
    auto s = school->submissions().HandIn(student, h.id, "version " + std::to_string(i), {});
    REQUIRE(s.ok());
    CHECK(s->current_version == i);
    CHECK(s->versions.size() == static_cast<size_t>(i));
  }
  auto rows = school->submissions().ListForHomework(teacher, h.id);
  REQUIRE(rows.ok());
  REQUIRE(rows->size() == 1);
  const Submission& s = *(*rows)[0].submission;
  CHECK(s.versions[0].version == 3);
  CHECK(s.versions[0].text == "version 3");
  CHECK(s.versions[2].version == 1);
  CHECK(s.versions[2].text == "version 1");
  CHECK(s.versions[0].submitted_at > s.versions[2].submitted_at);
}

TEST_CASE("once returned, a submission takes no more hand-ins, and returning again replaces the feedback") {
  TempSchool school;
  ClassInfo a = school.AddClass("5e A");
  Viewer teacher = school.AddUser("prof", Role::kTeacher, "5e A");
  Viewer student = school.AddUser("eleve", Role::kStudent, "5e A");
  Homework h = school.AddHomework(teacher, a.id, true);
  auto s = school->submissions().HandIn(student, h.id, "fait", {});
  REQUIRE(s.ok());
  REQUIRE(school->submissions().Return(teacher, s->id, {"bien", 14, {}}).ok());
  CHECK(school->submissions().HandIn(student, h.id, "encore", {}).status().code() == StatusCode::kConflict);
  auto again = school->submissions().Return(teacher, s->id, {"très bien", 16.5, {}});
  REQUIRE(again.ok());
  auto seen = school->submissions().Get(student, s->id);
  REQUIRE(seen.ok());
  CHECK(seen->status == "returned");
  CHECK(seen->feedback->comment == "très bien");
  CHECK(seen->feedback->grade == 16.5);
  CHECK(seen->versions.size() == 1);
  auto entry = school->homework().Get(student, h.id);
  CHECK(entry->mine->status == "returned");
  CHECK(entry->mine->grade == 16.5);
}

TEST_CASE("a grade outside 0 to 20 is refused and the work stays handed in") {
  TempSchool school;
  ClassInfo a = school.AddClass("5e A");
  Viewer teacher = school.AddUser("prof", Role::kTeacher, "5e A");
  Viewer student = school.AddUser("eleve", Role::kStudent, "5e A");
  Homework h = school.AddHomework(teacher, a.id, true);
  auto s = school->submissions().HandIn(student, h.id, "fait", {});
  REQUIRE(s.ok());
  for (double grade : {-0.5, 20.01, std::numeric_limits<double>::infinity(), std::nan("")})
    CHECK(school->submissions().Return(teacher, s->id, {"", grade, {}}).status().code() ==
          StatusCode::kInvalidArgument);
  CHECK(school->submissions().Get(teacher, s->id)->status == "handed_in");
}

TEST_CASE("an empty hand-in is refused and a late one is flagged") {
  TempSchool school;
  ClassInfo a = school.AddClass("5e A");
  Viewer teacher = school.AddUser("prof", Role::kTeacher, "5e A");
  Viewer student = school.AddUser("eleve", Role::kStudent, "5e A");
  Homework h = school.AddHomework(teacher, a.id, true, 1);
  CHECK(school->submissions().HandIn(student, h.id, "  ", {}).status().code() == StatusCode::kInvalidArgument);
  CHECK(school->submissions().HandIn(student, h.id, "<b></b>", {}).status().code() == StatusCode::kInvalidArgument);
  school.clock().Advance(2 * 86400);
  auto s = school->submissions().HandIn(student, h.id, "en retard", {});
  REQUIRE(s.ok());
  CHECK(s->versions[0].late);
}

TEST_CASE("a student cannot read another student's submission") {
  TempSchool school;
  ClassInfo a = school.AddClass("5e A");
  Viewer teacher = school.AddUser("prof", Role::kTeacher, "5e A");
  Viewer one = school.AddUser("un", Role::kStudent, "5e A");
  Viewer two = school.AddUser("deux", Role::kStudent, "5e A");
  Homework h = school.AddHomework(teacher, a.id, true);
  auto s = school->submissions().HandIn(one, h.id, "à moi", {});
  REQUIRE(s.ok());
  CHECK(school->submissions().Get(two, s->id).status().code() == StatusCode::kNotFound);
  CHECK(school->submissions().Get(one, s->id).ok());
  CHECK(school->submissions().Get(teacher, s->id).ok());
  auto rows = school->submissions().ListForHomework(two, h.id);
  REQUIRE(rows.ok());
  REQUIRE(rows->size() == 1);
  CHECK((*rows)[0].student.login == "deux");
  CHECK(!(*rows)[0].submission.has_value());
}

// --- Text ----------------------------------------------------------------------------

TEST_CASE("StripMarkup removes tags and the content of scripts and styles, and keeps the text") {
  struct Case {
    const char* in;
    const char* out;
  };
  const Case cases[] = {
      {"<p>Bonjour <b>à tous</b></p>", "Bonjour à tous"},
      {"avant<script>alert('x')</script>après", "avantaprès"},
      {"a<SCRIPT type=\"text/javascript\">evil()</ScRiPt>b", "ab"},
      {"x<script>if (a < b) { document.write('</p>') }</script>y", "xy"},
      {"<style>body { color: red }</style>texte", "texte"},
      {"un<!-- caché <b>gras</b> -->deux", "undeux"},
      {"ligne 1<br>ligne 2<br/>ligne 3", "ligne 1\nligne 2\nligne 3"},
      {"<ul><li>un</li><li>deux</li></ul>", "un\ndeux"},
      {"3 < 5 et 5 > 3", "3 < 5 et 5 > 3"},
      {"&lt;b&gt; &amp; &quot;q&quot; &#233;t&#xE9;", "<b> & \"q\" été"},
      {"<img src=x onerror=\"alert('>')\">image", "image"},
      {"<a href='javascript:alert(1)'>lien</a>", "lien"},
      {"debut<script>never closed", "debut"},
      {"  espaces  ", "espaces"},
  };
  for (const Case& c : cases) {
    INFO(c.in);
    CHECK(StripMarkup(c.in, 1000) == c.out);
  }
}

TEST_CASE("CleanText normalises line ends, drops control characters and repairs bad UTF-8") {
  CHECK(CleanText("a\r\nb\rc", 100) == "a\nb\nc");
  CHECK(CleanText(std::string("a\0b\x07"
                              "c\td",
                              8),
                  100) == "abc\td");
  CHECK(CleanText("caf\xE9", 100) == "caf\xEF\xBF\xBD");
  // Cut on a character boundary, never inside one.
  CHECK(CleanText("été", 3) == "ét");
  CHECK(IsValidUtf8(CleanText("\xC3\xA9\xC3\xA9", 3)));
}

}  // namespace
}  // namespace relais::content
