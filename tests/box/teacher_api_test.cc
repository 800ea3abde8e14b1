// What the teacher's pages rely on, beyond the homework loop of api_test.cc.
#include <doctest/doctest.h>

#include "tests/box/test_server.h"

namespace relais::testing {

using namespace relais::box;
using namespace relais::http;
namespace {

TEST_CASE("a teacher attaches a resource of the class's course, uploaded by a colleague, to homework") {
  TestServer box;
  Cast cast = SeedTwoClasses(box);
  box.AddUser("teacher.a2", content::Role::kTeacher, "5e A");
  std::string colleague = box.Login("teacher.a2");
  Reply up = box.Upload(colleague, PdfBytes("chapitre 3"), "application/pdf", "chapitre3.pdf");
  REQUIRE(up.status == 201);
  std::string course =
      box.Post("/api/v1/classes/" + cast.class_a.id + "/courses", {{"title", "SVT"}}, colleague).body["id"];
  std::string section =
      box.Post("/api/v1/courses/" + course + "/sections", {{"title", "Partie 1"}}, colleague).body["id"];
  REQUIRE(box.Post("/api/v1/sections/" + section + "/resources",
                   {{"kind", "file"}, {"title", "Chapitre 3"}, {"file_id", up.body["id"]}}, colleague)
              .status == 201);

  // The teacher picks it from the course list.
  std::string teacher = box.Login("teacher.a");
  json courses = box.Get("/api/v1/classes/" + cast.class_a.id + "/courses", teacher).body;
  std::string file_id = courses["courses"][0]["sections"][0]["resources"][0]["file"]["id"];
  Reply draft = box.Post("/api/v1/homework",
                         {{"class_id", cast.class_a.id},
                          {"subject", "SVT"},
                          {"title", "Lire le chapitre 3"},
                          {"due_at", DueIn(box, 2)},
                          {"attachments", {file_id}}},
                         teacher);
  REQUIRE_MESSAGE(draft.status == 201, Describe(draft));
  CHECK(draft.body["published"] == false);
  std::string student = box.Login("student.a");
  CHECK(box.Get("/api/v1/homework/" + draft.body["id"].get<std::string>(), student).status == 404);
  REQUIRE(box.Patch("/api/v1/homework/" + draft.body["id"].get<std::string>(), {{"published", true}}, teacher).status ==
          200);
  Reply seen = box.Get("/api/v1/homework/" + draft.body["id"].get<std::string>(), student);
  REQUIRE(seen.status == 200);
  CHECK(seen.body["attachments"][0]["id"] == file_id);
  CHECK(box.Get("/api/v1/files/" + file_id, student).raw == PdfBytes("chapitre 3"));
  // A teacher of another class cannot take it.
  Reply stolen = box.Post("/api/v1/homework",
                          {{"class_id", cast.class_b.id},
                           {"subject", "SVT"},
                           {"title", "Copie"},
                           {"due_at", DueIn(box, 2)},
                           {"attachments", {file_id}}},
                          box.Login("teacher.b"));
  CHECK((stolen.status == 403 || stolen.status == 404));
}

TEST_CASE("a teacher's list of a homework's hand-ins shows who is late, who handed in late, in a stable order") {
  TestServer box;
  Cast cast = SeedTwoClasses(box);
  box.AddUser("student.a3", content::Role::kStudent, "5e A");
  std::string teacher = box.Login("teacher.a");
  std::string hw = box.Post("/api/v1/homework",
                            {{"class_id", cast.class_a.id},
                             {"subject", "Maths"},
                             {"title", "Fiche"},
                             {"due_at", DueIn(box, 1)},
                             {"published", true}},
                            teacher)
                       .body["id"];
  REQUIRE(box.Post("/api/v1/homework/" + hw + "/submissions", {{"text", "à l'heure"}}, box.Login("student.a")).status ==
          201);
  box.clock().Advance(2 * 86400);
  REQUIRE(
      box.Post("/api/v1/homework/" + hw + "/submissions", {{"text", "en retard"}}, box.Login("student.a2")).status ==
      201);
  teacher = box.Login("teacher.a");  // the morning's session has expired
  json rows = box.Get("/api/v1/homework/" + hw + "/submissions", teacher).body["submissions"];
  REQUIRE(rows.size() == 3);
  CHECK(rows[0]["student"]["login"] == "student.a");
  CHECK(rows[0]["status"] == "handed_in");
  CHECK(rows[0]["submission"]["late"] == false);
  CHECK(rows[1]["student"]["login"] == "student.a2");
  CHECK(rows[1]["status"] == "handed_in");
  CHECK(rows[1]["submission"]["late"] == true);
  CHECK(rows[2]["student"]["login"] == "student.a3");
  CHECK(rows[2]["status"] == "late");
  CHECK(rows[2]["submission"].is_null());
}

}  // namespace
}  // namespace relais::testing
