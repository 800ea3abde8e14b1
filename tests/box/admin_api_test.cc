// The administration endpoints over HTTP: roster import, finding and editing
// users, class management, and the box's status.
#include <doctest/doctest.h>

#include <set>

#include "tests/box/test_server.h"

namespace relais::testing {

using namespace relais::box;
using namespace relais::http;
namespace {

std::set<std::string> Logins(const Reply& r) {
  std::set<std::string> out;
  for (const json& u : r.body["users"]) out.insert(u["login"].get<std::string>());
  return out;
}

Reply PostCsv(TestServer& box, const std::string& csv, const std::string& token) {
  return box.Send("POST", "/api/v1/roster", token, csv, "text/csv");
}

TEST_CASE("an admin imports a roster file over HTTP and gets each new account's one-time password") {
  TestServer box;
  SeedTwoClasses(box);
  std::string admin = box.Login("admin");
  const std::string csv =
      "login;nom;rôle;classe\n"
      "lea.martin;Léa Martin;élève;CM2\n"
      "hugo.petit;Hugo Petit;student;CM2\n"
      "student.a;User student.a;student;CM2\n";  // an existing pupil joins a new class
  Reply r = PostCsv(box, csv, admin);
  REQUIRE_MESSAGE(r.status == 200, Describe(r));
  CHECK(r.body["created"] == 2);
  CHECK(r.body["updated"] == 1);
  CHECK(r.body["classes_created"] == 1);
  REQUIRE(r.body["accounts"].size() == 2);
  json lea = r.body["accounts"][0];
  CHECK(lea["login"] == "lea.martin");
  CHECK(lea["display_name"] == "Léa Martin");
  CHECK(lea["class"] == "CM2");
  CHECK(lea["role"] == "student");
  std::string token = box.Login("lea.martin", lea["password"]);
  REQUIRE(!token.empty());
  CHECK(box.Get("/api/v1/classes", token).body["classes"][0]["name"] == "CM2");

  // The same file again changes nothing and reveals no password.
  Reply again = PostCsv(box, csv, admin);
  REQUIRE(again.status == 200);
  CHECK(again.body["created"] == 0);
  CHECK(again.body["unchanged"] == 3);
  CHECK(again.body["accounts"].empty());
}

TEST_CASE("a roster file with bad lines is answered with each line's error and imports nothing") {
  TestServer box;
  SeedTwoClasses(box);
  std::string admin = box.Login("admin");
  size_t before = box.Get("/api/v1/users", admin).body["users"].size();
  Reply r = PostCsv(box,
                    "login,name,role,class\n"
                    "ok.one,Un,student,3e C\n"
                    "Bad Login!,Deux,student,3e C\n"
                    "ok.two,Trois,pirate,3e C\n"
                    "teacher.a,Prof,student,3e C\n",
                    admin);
  REQUIRE_MESSAGE(r.status == 400, Describe(r));
  CHECK(IsJsonError(r));
  CHECK(r.ErrorCode() == "invalid_argument");
  REQUIRE(r.body["error"]["lines"].size() == 2);  // the role clash is checked once the file parses
  CHECK(r.body["error"]["lines"][0]["line"] == 3);
  CHECK(r.body["error"]["lines"][1]["line"] == 4);
  CHECK(!r.body["error"]["lines"][0]["message"].get<std::string>().empty());
  Reply clash = PostCsv(box, "ok.one,Un,student,3e C\nteacher.a,Prof,student,3e C\n", admin);
  REQUIRE(clash.status == 400);
  REQUIRE(clash.body["error"]["lines"].size() == 1);
  CHECK(clash.body["error"]["lines"][0]["line"] == 2);
  CHECK(box.Get("/api/v1/users", admin).body["users"].size() == before);
  // Not UTF-8 (a spreadsheet's Windows-1252 export), or empty.
  CHECK(PostCsv(box,
                "eleve;L\xe9"
                "a;student;CM2\n",
                admin)
            .status == 400);
  CHECK(PostCsv(box, "", admin).status == 400);
}

TEST_CASE("a roster file over the body limit is a 413") {
  // A small limit, so that the whole body fits in the socket's buffer before the answer comes.
  TestServer box([](box::Config& c) { c.max_json_bytes = 4096; });
  SeedTwoClasses(box);
  Reply r = PostCsv(box, std::string(5000, 'a'), box.Login("admin"));
  CHECK(r.status == 413);
  CHECK(r.ErrorCode() == "too_large");
}

TEST_CASE("an admin finds users by class, role and name; a teacher finds only the students of their classes") {
  TestServer box;
  Cast cast = SeedTwoClasses(box);
  std::string admin = box.Login("admin");
  CHECK(Logins(box.Get("/api/v1/users", admin)).size() == 6);
  CHECK(Logins(box.Get("/api/v1/users?class_id=" + cast.class_a.id, admin)) ==
        std::set<std::string>{"teacher.a", "student.a", "student.a2"});
  CHECK(Logins(box.Get("/api/v1/users?role=teacher", admin)) == std::set<std::string>{"teacher.a", "teacher.b"});
  CHECK(Logins(box.Get("/api/v1/users?q=STUDENT.A", admin)) == std::set<std::string>{"student.a", "student.a2"});
  CHECK(Logins(box.Get("/api/v1/users?q=%25", admin)).empty());  // a literal %, not a wildcard
  CHECK(box.Get("/api/v1/users?role=pirate", admin).status == 400);
  Reply one = box.Get("/api/v1/users?q=student.b", admin);
  REQUIRE(one.body["users"].size() == 1);
  CHECK(one.body["users"][0]["classes"] ==
        json::array({{{"id", cast.class_b.id}, {"name", "5e B"}, {"role", "student"}}}));

  std::string teacher = box.Login("teacher.a");
  CHECK(Logins(box.Get("/api/v1/users", teacher)) == std::set<std::string>{"student.a", "student.a2"});
  CHECK(Logins(box.Get("/api/v1/users?q=a2", teacher)) == std::set<std::string>{"student.a2"});
  CHECK(Logins(box.Get("/api/v1/users?class_id=" + cast.class_b.id, teacher)).empty());
  CHECK(Logins(box.Get("/api/v1/users?role=teacher", teacher)).empty());
  // A pupil in two classes: the teacher sees only the class they teach.
  box.school().accounts().AddMember(nullptr, cast.class_b.id, cast.student_a.id).value();
  Reply a = box.Get("/api/v1/users?q=student.a&class_id=" + cast.class_a.id, teacher);
  REQUIRE(a.body["users"].size() == 2);
  CHECK(a.body["users"][0]["classes"] ==
        json::array({{{"id", cast.class_a.id}, {"name", "5e A"}, {"role", "student"}}}));
  CHECK(Logins(box.Get("/api/v1/users?q=student.a", admin)).size() == 2);
  CHECK(box.Get("/api/v1/users?q=student.a&class_id=" + cast.class_b.id, admin).body["users"][0]["classes"].size() ==
        2);
  CHECK(box.Get("/api/v1/users", box.Login("student.a")).status == 403);
}

TEST_CASE("ending an account logs it out everywhere and keeps it out until it is reopened") {
  TestServer box;
  Cast cast = SeedTwoClasses(box);
  std::string admin = box.Login("admin");
  std::string student = box.Login("student.a");
  json cards = box.Post("/api/v1/classes/" + cast.class_a.id + "/login-cards", json::object(), admin).body;
  std::string card_path = cards["cards"][0]["url"].get<std::string>();
  card_path = card_path.substr(card_path.find("/c/"));
  REQUIRE(box.Get("/api/v1/me", student).status == 200);

  Reply ended = box.Patch("/api/v1/users/" + cast.student_a.id, {{"disabled", true}}, admin);
  REQUIRE_MESSAGE(ended.status == 200, Describe(ended));
  CHECK(ended.body["disabled"] == true);
  CHECK(box.Get("/api/v1/me", student).status == 401);
  CHECK(box.Login("student.a").empty());
  CHECK(box.Get(card_path).Header("Location") == "/?card=invalid");

  Reply reopened =
      box.Patch("/api/v1/users/" + cast.student_a.id, {{"disabled", false}, {"display_name", " Léa "}}, admin);
  REQUIRE(reopened.status == 200);
  CHECK(reopened.body["disabled"] == false);
  CHECK(reopened.body["display_name"] == "Léa");
  CHECK(!box.Login("student.a").empty());
  CHECK(box.Get(card_path).Header("Location") == "/?card=invalid");  // the card stays revoked

  CHECK(box.Patch("/api/v1/users/" + cast.admin.id, {{"disabled", true}}, admin).status == 400);
  CHECK(box.Patch("/api/v1/users/" + cast.student_b.id, {{"login", "x"}}, admin).status == 400);
  CHECK(box.Patch("/api/v1/users/" + cast.student_b.id, {{"display_name", ""}}, admin).status == 400);
  CHECK(box.Patch("/api/v1/users/00000000-0000-4000-8000-000000000000", {{"disabled", true}}, admin).status == 404);
}

TEST_CASE("an admin renames classes, deletes empty ones, and removes members") {
  TestServer box;
  Cast cast = SeedTwoClasses(box);
  std::string admin = box.Login("admin");
  Reply renamed = box.Patch("/api/v1/classes/" + cast.class_a.id, {{"name", "5e Alpha"}}, admin);
  REQUIRE_MESSAGE(renamed.status == 200, Describe(renamed));
  CHECK(renamed.body["name"] == "5e Alpha");
  CHECK(renamed.body["students"] == 2);
  CHECK(box.Patch("/api/v1/classes/" + cast.class_a.id, {{"name", "5e b"}}, admin).status == 409);
  CHECK(box.Patch("/api/v1/classes/" + cast.class_a.id, {{"name", "  "}}, admin).status == 400);
  // The old name stays tied to the renamed class (its id derives from it, for sync).
  Reply reused = box.Post("/api/v1/classes", {{"name", "5e A"}}, admin);
  CHECK(reused.status == 409);
  CHECK(reused.body["error"]["message"].get<std::string>().find("5e Alpha") != std::string::npos);
  CHECK(box.Send("POST", "/api/v1/roster", admin, "nouveau;Nouveau;student;5e A\n", "text/csv").status == 409);

  // A class with homework keeps it: it cannot be deleted.
  std::string teacher = box.Login("teacher.a");
  Reply hw = box.Post("/api/v1/homework",
                      {{"class_id", cast.class_a.id},
                       {"subject", "Maths"},
                       {"title", "Fiche"},
                       {"due_at", DueIn(box, 3)},
                       {"published", true}},
                      teacher);
  REQUIRE(hw.status == 201);
  Reply refused = box.Delete("/api/v1/classes/" + cast.class_a.id, admin);
  CHECK(refused.status == 409);
  CHECK(IsJsonError(refused));
  content::ClassInfo empty = box.AddClass("Atelier");
  box.school().accounts().AddMember(nullptr, empty.id, cast.student_b.id).value();
  CHECK(box.Delete("/api/v1/classes/" + empty.id, admin).status == 200);
  CHECK(box.Delete("/api/v1/classes/" + empty.id, admin).status == 404);
  CHECK(box.Get("/api/v1/classes", box.Login("student.b")).body["classes"].size() == 1);

  // A pupil who leaves the class no longer sees its homework; their account stays.
  std::string student = box.Login("student.a");
  CHECK(box.Get("/api/v1/homework", student).body["homework"].size() == 1);
  Reply removed = box.Delete("/api/v1/classes/" + cast.class_a.id + "/members/" + cast.student_a.id, admin);
  REQUIRE_MESSAGE(removed.status == 200, Describe(removed));
  CHECK(box.Get("/api/v1/homework", student).body["homework"].empty());
  CHECK(box.Get("/api/v1/classes/" + cast.class_a.id + "/members", admin).body["members"].size() == 2);
  CHECK(box.Delete("/api/v1/classes/" + cast.class_a.id + "/members/" + cast.student_a.id, admin).status == 404);
}

TEST_CASE("the box status gives the version, disk use, connected users and no sync yet") {
  TestServer box;
  SeedTwoClasses(box);
  std::string admin = box.Login("admin");
  for (const char* login : {"student.a", "student.b"}) REQUIRE(box.Get("/api/v1/me", box.Login(login)).status == 200);
  box.Upload(admin, PdfBytes(std::string(100000, 'x')), "application/pdf", "gros.pdf");
  Reply s = box.Get("/api/v1/admin/status", admin);
  REQUIRE_MESSAGE(s.status == 200, Describe(s));
  CHECK(s.body["version"] == RELAIS_VERSION);
  CHECK(s.body["connected_users"] == 3);
  CHECK(s.body["connected_window_s"] == 300);
  CHECK(s.body["last_sync"].is_null());
  CHECK(s.body["disk"]["data_bytes"].get<uint64_t>() > 100000);
  CHECK(s.body["disk"]["free_bytes"].get<uint64_t>() > 0);
  CHECK(s.body["disk"]["total_bytes"].get<uint64_t>() >= s.body["disk"]["free_bytes"].get<uint64_t>());
  // Six minutes later only the admin, who just asked, is still connected.
  box.clock().Advance(360);
  Reply later = box.Get("/api/v1/admin/status", admin);
  CHECK(later.body["connected_users"] == 1);
  CHECK(later.body["uptime_s"].get<int64_t>() >= 360);
}

}  // namespace
}  // namespace relais::testing
