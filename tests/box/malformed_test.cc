// Malformed requests of every kind: each gets a 4xx with the API's one error
// shape, {"error":{"code","message"}}, and leaves nothing half-written.
#include <doctest/doctest.h>

#include "core/crypto.h"
#include "tests/box/test_server.h"

namespace relais::testing {

using namespace relais::box;
using namespace relais::http;
namespace {

// Checks the status and the error shape, and names the request in failures.
void ExpectError(const Reply& r, int status, const std::string& what) {
  INFO(what << " -> " << Describe(r));
  CHECK(r.status == status);
  CHECK(IsJsonError(r));
}

// A class with a teacher, two students and one published homework.
struct Fixture {
  explicit Fixture(const std::function<void(box::Config&)>& configure = {}) : box(configure) {
    cast = SeedTwoClasses(box);
    teacher = box.Login("teacher.a");
    student = box.Login("student.a");
    admin = box.Login("admin");
    Reply pdf = box.Upload(teacher, PdfBytes("a"), "application/pdf", "a.pdf");
    Reply pdf2 = box.Upload(teacher, PdfBytes("b"), "application/pdf", "b.pdf");
    REQUIRE(pdf.status == 201);
    REQUIRE(pdf2.status == 201);
    file = pdf.body["id"];
    file2 = pdf2.body["id"];
    Reply hw = box.Post("/api/v1/homework", ValidHomework(), teacher);
    REQUIRE_MESSAGE(hw.status == 201, Describe(hw));
    homework = hw.body["id"];
  }

  json ValidHomework() {
    return {{"class_id", cast.class_a.id}, {"subject", "Maths"},    {"title", "Équations"},
            {"due_at", DueIn(box, 3)},     {"attachments", {file}}, {"published", true}};
  }

  // The ids and titles of the homework the teacher sees.
  std::vector<std::string> HomeworkSnapshot() {
    Reply r = box.Get("/api/v1/homework", teacher);
    REQUIRE(r.status == 200);
    std::vector<std::string> out;
    for (const json& h : r.body["homework"]) out.push_back(h.dump());
    return out;
  }

  TestServer box;
  Cast cast;
  std::string teacher, student, admin, file, file2, homework;
};

TEST_CASE("a body that is not JSON, or not a JSON object, is a 400") {
  Fixture f;
  const char* bodies[] = {"{\"login\":", "not json at all",   "{'login':'x'}", "[1, 2]", "\"text\"", "42", "null",
                          "true",        "{\"a\":1} trailing"};
  for (const char* path : {"/api/v1/session", "/api/v1/homework"}) {
    for (const char* body : bodies) {
      Reply r = f.box.Send("POST", path, f.teacher, body, "application/json");
      ExpectError(r, 400, std::string(path) + " with " + body);
      CHECK(r.ErrorCode() == "invalid_argument");
    }
  }
}

TEST_CASE("an empty body where JSON is expected is a 400") {
  Fixture f;
  ExpectError(f.box.Send("POST", "/api/v1/homework", f.teacher, "", "application/json"), 400, "empty create");
  ExpectError(f.box.Send("POST", "/api/v1/homework/" + f.homework + "/submissions", f.student), 400,
              "hand-in without a body");
  ExpectError(f.box.Send("PATCH", "/api/v1/homework/" + f.homework, f.teacher), 400, "patch without a body");
}

TEST_CASE("a missing required field is a 400 that names it") {
  Fixture f;
  for (const char* field : {"class_id", "subject", "title", "due_at"}) {
    json body = f.ValidHomework();
    body.erase(field);
    Reply r = f.box.Post("/api/v1/homework", body, f.teacher);
    ExpectError(r, 400, std::string("homework without ") + field);
    CHECK(r.body["error"]["message"].get<std::string>().find(field) != std::string::npos);
  }
  ExpectError(f.box.Post("/api/v1/session", {{"login", "student.a"}}, ""), 400, "login without a password");
  ExpectError(f.box.Post("/api/v1/session", {{"password", kPassword}}, ""), 400, "login without a login");
  ExpectError(f.box.Post("/api/v1/users", {{"login", "x"}, {"role", "student"}}, f.admin), 400,
              "user without a password");
  // A title of spaces or markup only is as good as missing.
  json blank = f.ValidHomework();
  blank["title"] = "   ";
  ExpectError(f.box.Post("/api/v1/homework", blank, f.teacher), 400, "blank title");
}

TEST_CASE("a field of the wrong type is a 400 that names it") {
  Fixture f;
  struct Case {
    const char* field;
    json value;
  };
  const Case homework_cases[] = {
      {"title", 42},
      {"title", json::array()},
      {"subject", true},
      {"class_id", 7},
      {"due_at", 1790000000},
      {"attachments", json::object({{"id", "x"}})},
      {"attachments", "a-file-id"},
      {"attachments", {1, 2}},
      {"published", "yes"},
      {"instructions", {{"html", "<b>"}}},
  };
  for (const Case& c : homework_cases) {
    json body = f.ValidHomework();
    body[c.field] = c.value;
    Reply r = f.box.Post("/api/v1/homework", body, f.teacher);
    ExpectError(r, 400, std::string(c.field) + " = " + c.value.dump());
    CHECK(r.body["error"]["message"].get<std::string>().find(c.field) != std::string::npos);
  }
  Reply s = f.box.Post("/api/v1/homework/" + f.homework + "/submissions", {{"text", "ok"}, {"files", "id"}}, f.student);
  ExpectError(s, 400, "files as a string");
  s = f.box.Post("/api/v1/homework/" + f.homework + "/submissions", {{"text", 12}}, f.student);
  ExpectError(s, 400, "text as a number");
  ExpectError(f.box.Post("/api/v1/session", {{"login", "student.a"}, {"password", 123456}}, ""), 400,
              "password as a number");
}

TEST_CASE("a grade that is not a number from 0 to 20 is a 400 and nothing is returned") {
  Fixture f;
  Reply s = f.box.Post("/api/v1/homework/" + f.homework + "/submissions", {{"text", "travail"}}, f.student);
  REQUIRE(s.status == 201);
  std::string path = "/api/v1/submissions/" + s.body["id"].get<std::string>() + "/feedback";
  for (json grade :
       {json(21), json(-1), json(20.5), json("15"), json("NaN"), json(json::array({12})), json(json::object())}) {
    Reply r = f.box.Post(path, {{"comment", "c"}, {"grade", grade}}, f.teacher);
    ExpectError(r, 400, "grade " + grade.dump());
  }
  // NaN and infinities cannot be written in JSON; the nearest a client can send.
  for (const char* body :
       {R"({"grade": NaN})", R"({"grade": Infinity})", R"({"grade": 1e999})", R"({"grade": -1e999})"}) {
    ExpectError(f.box.Send("POST", path, f.teacher, body, "application/json"), 400, body);
  }
  Reply still = f.box.Get("/api/v1/submissions/" + s.body["id"].get<std::string>(), f.student);
  CHECK(still.body["status"] == "handed_in");
  CHECK(still.body["feedback"].is_null());
  // The bounds themselves are fine.
  CHECK(f.box.Post(path, {{"grade", 0}}, f.teacher).status == 201);
  CHECK(f.box.Post(path, {{"grade", 20}}, f.teacher).status == 201);
  CHECK(f.box.Post(path, {{"grade", nullptr}, {"comment", "sans note"}}, f.teacher).status == 201);
}

TEST_CASE("an unknown or malformed id is a 404") {
  Fixture f;
  std::string unknown = core::NewUuid();
  const std::pair<std::string, std::string> gets[] = {
      {"/api/v1/homework/" + unknown, f.teacher},
      {"/api/v1/homework/not-a-uuid", f.teacher},
      {"/api/v1/homework/" + unknown + "/submissions", f.teacher},
      {"/api/v1/submissions/" + unknown, f.teacher},
      {"/api/v1/submissions/1", f.teacher},
      {"/api/v1/files/" + unknown, f.teacher},
      {"/api/v1/files/" + unknown + "/info", f.teacher},
      {"/api/v1/files/..%2F..%2Fetc%2Fpasswd", f.teacher},
      {"/api/v1/files/" + std::string(64, 'a'), f.teacher},
      {"/api/v1/classes/" + unknown + "/members", f.admin},
      {"/api/v1/homework/" + f.homework.substr(0, 35), f.teacher},
  };
  for (const auto& [path, token] : gets) ExpectError(f.box.Get(path, token), 404, "GET " + path);
  ExpectError(f.box.Patch("/api/v1/homework/" + unknown, {{"title", "x"}}, f.teacher), 404, "PATCH unknown");
  ExpectError(f.box.Delete("/api/v1/homework/" + unknown, f.teacher), 404, "DELETE unknown");
  ExpectError(f.box.Post("/api/v1/homework/" + unknown + "/submissions", {{"text", "x"}}, f.student), 404,
              "hand in to unknown");
  ExpectError(f.box.Post("/api/v1/submissions/" + unknown + "/feedback", {{"grade", 10}}, f.teacher), 404,
              "feedback on unknown");
  ExpectError(f.box.Post("/api/v1/classes/" + unknown + "/members", {{"login", "student.b"}}, f.admin), 404,
              "member of unknown class");
  ExpectError(f.box.Post("/api/v1/classes/" + f.cast.class_a.id + "/members", {{"login", "nobody"}}, f.admin), 404,
              "unknown member");
  json for_unknown_class = f.ValidHomework();
  for_unknown_class["class_id"] = unknown;
  Reply create = f.box.Post("/api/v1/homework", for_unknown_class, f.teacher);
  ExpectError(create, 404, "homework for an unknown class");
}

TEST_CASE("an unknown endpoint is a JSON 404 and a wrong method a JSON 405") {
  Fixture f;
  ExpectError(f.box.Get("/api/v1/nothing-here", f.teacher), 404, "unknown endpoint");
  ExpectError(f.box.Get("/api/v2/homework", f.teacher), 404, "unknown version");
  ExpectError(f.box.Get("/api/v1/homework/" + f.homework + "/extra", f.teacher), 404, "too deep");
  ExpectError(f.box.Post("/api/v1/nothing-here", {{"a", 1}}, ""), 404, "anonymous POST to an unknown endpoint");
  ExpectError(f.box.Send("PUT", "/api/v1/homework", f.teacher, "{}", "application/json"), 405, "PUT homework");
  ExpectError(f.box.Delete("/api/v1/me", f.teacher), 405, "DELETE me");
  ExpectError(f.box.Patch("/api/v1/session", {{"a", 1}}, f.teacher), 405, "PATCH session");
  ExpectError(f.box.Send("POST", "/api/v1/health", ""), 405, "POST health");
  ExpectError(f.box.Send("DELETE", "/api/v1/files/" + f.file, f.teacher), 405, "DELETE file");
}

TEST_CASE("a JSON body over the limit is a 413") {
  Fixture f([](box::Config& c) { c.max_json_bytes = 4096; });
  json body = f.ValidHomework();
  body["instructions"] = std::string(6000, 'x');
  Reply r = f.box.Post("/api/v1/homework", body, f.teacher);
  ExpectError(r, 413, "large homework");
  CHECK(r.ErrorCode() == "too_large");
  ExpectError(f.box.Post("/api/v1/session", {{"login", "student.a"}, {"password", std::string(5000, 'p')}}, ""), 413,
              "large login");
  // Just under the limit is fine.
  body["instructions"] = std::string(3000, 'x');
  CHECK(f.box.Post("/api/v1/homework", body, f.teacher).status == 201);
}

TEST_CASE("a JSON body over the limit sent in chunks is a 413") {
  Fixture f([](box::Config& c) { c.max_json_bytes = 4096; });
  json body = f.ValidHomework();
  body["instructions"] = std::string(9000, 'x');
  std::string reply = RawExchange(f.box.port(),
                                  "POST /api/v1/homework HTTP/1.1\r\nHost: x\r\n"
                                  "Authorization: Bearer " +
                                      f.teacher +
                                      "\r\n"
                                      "Content-Type: application/json\r\n"
                                      "Transfer-Encoding: chunked\r\n\r\n" +
                                      Chunked(body.dump()));
  INFO(reply);
  CHECK(reply.rfind("HTTP/1.1 413", 0) == 0);
  CHECK(reply.find("\"too_large\"") != std::string::npos);
}

TEST_CASE("a refused body does not spoil the next reruest on a keep-alive connection") {
  Fixture f([](box::Config& c) {
    c.max_json_bytes = 4096;
    c.max_upload_bytes = 2000;
  });
  httplib::Client client("127.0.0.1", f.box.port());
  client.set_keep_alive(true);
  httplib::Headers auth = {{"Authorization", "Bearer " + f.teacher}};
  httplib::Headers upload = auth;
  upload.emplace("X-Filename", "big.jpg");
  auto r1 = client.Post("/api/v1/files", upload, JpegBytes(3000), "image/jpeg");
  REQUIRE(r1);
  CHECK(r1->status == 413);
  // Its body was not read: the transport either discarded it (it had all
  // arrived) or closed the connection; either way the next request works.
  // (event_server_test checks the close for a body still on its way.)
  auto r2 = client.Get("/api/v1/me", auth);
  REQUIRE(r2);
  CHECK(r2->status == 200);

  json big = f.ValidHomework();
  big["instructions"] = std::string(6000, 'x');
  auto r3 = client.Post("/api/v1/homework", auth, big.dump(), "application/json");
  REQUIRE(r3);
  CHECK(r3->status == 413);
  CHECK(r3->get_header_value("Connection") == "close");
  auto r4 = client.Get("/api/v1/me", auth);
  REQUIRE(r4);
  CHECK(r4->status == 200);

  // An admin-only call refused before its body was read.
  auto r5 =
      client.Post("/api/v1/users", auth, R"({"login":"x","password":"secret-1","role":"student"})", "application/json");
  REQUIRE(r5);
  CHECK(r5->status == 403);
  auto r6 = client.Get("/api/v1/me", auth);
  REQUIRE(r6);
  CHECK(r6->status == 200);
}

TEST_CASE("an invalid date is a 400") {
  Fixture f;
  for (const char* due : {"", "demain", "2026-13-01", "2026-00-10", "2026-11-32", "2026-11-30T25:00",
                          "2026-11-30T12:61", "30/11/2026", "2026-11-30T18:00:00+25:00", "2026-11-30Tnoon"}) {
    json body = f.ValidHomework();
    body["due_at"] = due;
    Reply r = f.box.Post("/api/v1/homework", body, f.teacher);
    ExpectError(r, 400, std::string("due_at = ") + due);
    CHECK(r.body["error"]["message"].get<std::string>().find("due_at") != std::string::npos);
  }
  ExpectError(f.box.Patch("/api/v1/homework/" + f.homework, {{"due_at", "bientôt"}}, f.teacher), 400, "patch due");
  ExpectError(f.box.Get("/api/v1/homework?from=yesterday", f.teacher), 400, "from");
  ExpectError(f.box.Get("/api/v1/homework?to=2026-99-99", f.teacher), 400, "to");
  // Accepted forms, for contrast.
  for (const char* due : {"2030-11-30", "2030-11-30T18:00", "2030-11-30T18:00:00Z", "2030-11-30T18:00:00+01:00"}) {
    json body = f.ValidHomework();
    body["due_at"] = due;
    CHECK_MESSAGE(f.box.Post("/api/v1/homework", body, f.teacher).status == 201, due);
  }
}

TEST_CASE("a file id the caller may not use is refused") {
  Fixture f;
  std::string other_student = f.box.Login("student.a2");
  Reply theirs = f.box.Upload(other_student, JpegBytes(), "image/jpeg", "leur.jpg");
  REQUIRE(theirs.status == 201);
  std::string hand_in = "/api/v1/homework/" + f.homework + "/submissions";
  Reply r = f.box.Post(hand_in, {{"text", "x"}, {"files", {theirs.body["id"]}}}, f.student);
  CHECK((r.status == 403 || r.status == 404));
  CHECK(IsJsonError(r));
  ExpectError(f.box.Post(hand_in, {{"text", "x"}, {"files", {core::NewUuid()}}}, f.student), 404, "unknown file");
  ExpectError(f.box.Post(hand_in, {{"text", "x"}, {"files", {"not-a-file-id"}}}, f.student), 400, "not an id");
  Reply mine = f.box.Upload(f.student, JpegBytes(), "image/jpeg", "moi.jpg");
  REQUIRE(mine.status == 201);
  ExpectError(f.box.Post(hand_in, {{"files", {mine.body["id"], mine.body["id"]}}}, f.student), 400,
              "the same file twice");
  // A student's own upload is not a teacher's to attach to homework.
  json body = f.ValidHomework();
  body["attachments"] = {mine.body["id"]};
  r = f.box.Post("/api/v1/homework", body, f.teacher);
  CHECK((r.status == 403 || r.status == 404));
  CHECK(IsJsonError(r));
}

TEST_CASE("an empty hand-in is a 400") {
  Fixture f;
  std::string path = "/api/v1/homework/" + f.homework + "/submissions";
  ExpectError(f.box.Post(path, json::object(), f.student), 400, "{}");
  ExpectError(f.box.Post(path, {{"text", ""}, {"files", json::array()}}, f.student), 400, "empty text and files");
  ExpectError(f.box.Post(path, {{"text", "<p></p><script>x()</script>"}}, f.student), 400, "markup only");
  ExpectError(f.box.Post(path, {{"text", nullptr}, {"files", nullptr}}, f.student), 400, "nulls");
  Reply rows = f.box.Get(path, f.student);
  CHECK(rows.body["submissions"][0]["status"] == "todo");
}

TEST_CASE("a field that cannot be changed is refused by PATCH") {
  Fixture f;
  for (const char* field : {"class_id", "id", "author_id", "given_at", "created_at", "titel"}) {
    Reply r = f.box.Patch("/api/v1/homework/" + f.homework, {{field, "x"}}, f.teacher);
    ExpectError(r, 400, std::string("PATCH ") + field);
  }
  CHECK(f.box.Get("/api/v1/homework/" + f.homework, f.teacher).body["class_id"] == f.cast.class_a.id);
}

// --- Nothing half-written ---------------------------------------------------------------

TEST_CASE("a homework refused for one bad attachment among good ones leaves the list unchanged") {
  Fixture f;
  std::string teacher_b = f.box.Login("teacher.b");
  Reply foreign = f.box.Upload(teacher_b, PdfBytes("b"), "application/pdf", "b.pdf");
  REQUIRE(foreign.status == 201);
  auto before = f.HomeworkSnapshot();
  const std::vector<std::vector<std::string>> bad_lists = {
      {f.file, f.file2, foreign.body["id"]},  // a file of another class's teacher
      {f.file, core::NewUuid(), f.file2},     // an unknown file
      {f.file, "not-an-id"},                  // not an id
      {f.file, f.file2, f.file},              // a duplicate
  };
  for (const auto& list : bad_lists) {
    json body = f.ValidHomework();
    body["title"] = "Ne doit pas exister";
    body["attachments"] = list;
    Reply r = f.box.Post("/api/v1/homework", body, f.teacher);
    INFO(json(list).dump() << " -> " << Describe(r));
    CHECK(r.status >= 400);
    CHECK(r.status < 500);
    CHECK(IsJsonError(r));
    CHECK(f.HomeworkSnapshot() == before);
  }
  // The student saw nothing either.
  Reply list = f.box.Get("/api/v1/homework", f.student);
  CHECK(list.body["homework"].size() == 1);
}

TEST_CASE("a refused homework change leaves the homework as it was") {
  Fixture f;
  std::string teacher_b = f.box.Login("teacher.b");
  Reply foreign = f.box.Upload(teacher_b, PdfBytes("b"), "application/pdf", "b.pdf");
  REQUIRE(foreign.status == 201);
  auto before = f.HomeworkSnapshot();
  std::string path = "/api/v1/homework/" + f.homework;
  const json patches[] = {
      {{"title", "Nouveau titre"}, {"attachments", {f.file, foreign.body["id"]}}},
      {{"title", "Nouveau titre"}, {"attachments", {f.file, core::NewUuid()}}},
      {{"title", "Nouveau titre"}, {"attachments", {f.file, f.file}}},
      {{"title", "Nouveau titre"}, {"published", "no"}},
      {{"title", ""}},
      {{"title", "Nouveau titre"}, {"due_at", "hier"}},
  };
  for (const json& patch : patches) {
    Reply r = f.box.Patch(path, patch, f.teacher);
    INFO(patch.dump() << " -> " << Describe(r));
    CHECK(r.status >= 400);
    CHECK(r.status < 500);
    CHECK(IsJsonError(r));
    CHECK(f.HomeworkSnapshot() == before);
  }
}

TEST_CASE("listing an attachment twice is a 400, when creating and when changing homework") {
  Fixture f;
  json body = f.ValidHomework();
  body["attachments"] = {f.file2, f.file2};
  Reply created = f.box.Post("/api/v1/homework", body, f.teacher);
  ExpectError(created, 400, "create with a duplicate");
  // f.file is already attached: listing it twice must not reach the database as a duplicate row.
  Reply patched = f.box.Patch("/api/v1/homework/" + f.homework, {{"attachments", {f.file, f.file}}}, f.teacher);
  ExpectError(patched, 400, "patch with a duplicate");
  CHECK(patched.body["error"]["message"].get<std::string>().find("constraint") == std::string::npos);
}

TEST_CASE("a hand-in refused for one bad file leaves no submission behind") {
  Fixture f;
  Reply photo = f.box.Upload(f.student, JpegBytes(), "image/jpeg", "photo.jpg");
  REQUIRE(photo.status == 201);
  std::string path = "/api/v1/homework/" + f.homework + "/submissions";
  Reply r = f.box.Post(path, {{"text", "mon travail"}, {"files", {photo.body["id"], core::NewUuid()}}}, f.student);
  ExpectError(r, 404, "hand-in with an unknown file");
  Reply rows = f.box.Get(path, f.teacher);
  for (const json& row : rows.body["submissions"]) {
    CHECK(row["status"] == "todo");
    CHECK(row["submission"].is_null());
  }
}

TEST_CASE("feedback refused for one bad file leaves the work handed in, not returned") {
  Fixture f;
  Reply s = f.box.Post("/api/v1/homework/" + f.homework + "/submissions", {{"text", "travail"}}, f.student);
  REQUIRE(s.status == 201);
  std::string id = s.body["id"];
  Reply r = f.box.Post("/api/v1/submissions/" + id + "/feedback",
                       {{"comment", "bien"}, {"grade", 12}, {"files", {f.file, core::NewUuid()}}}, f.teacher);
  ExpectError(r, 404, "feedback with an unknown file");
  Reply after = f.box.Get("/api/v1/submissions/" + id, f.student);
  CHECK(after.body["status"] == "handed_in");
  CHECK(after.body["feedback"].is_null());
  // The student can still hand in again.
  CHECK(f.box.Post("/api/v1/homework/" + f.homework + "/submissions", {{"text", "v2"}}, f.student).status == 201);
}

TEST_CASE("a user refused for a bad class is not created") {
  Fixture f;
  Reply r = f.box.Post(
      "/api/v1/users",
      {{"login", "new.pupil"}, {"password", kPassword}, {"role", "student"}, {"class_id", core::NewUuid()}}, f.admin);
  ExpectError(r, 404, "user for an unknown class");
  CHECK(!f.box.school().accounts().FindUser("new.pupil").ok());
  ExpectError(
      f.box.Post("/api/v1/users", {{"login", "Bad Login"}, {"password", kPassword}, {"role", "student"}}, f.admin), 400,
      "bad login");
  ExpectError(f.box.Post("/api/v1/users", {{"login", "pupil2"}, {"password", kPassword}, {"role", "pirate"}}, f.admin),
              400, "bad role");
  ExpectError(f.box.Post("/api/v1/users", {{"login", "pupil3"}, {"password", "short"}, {"role", "student"}}, f.admin),
              400, "short password");
  ExpectError(
      f.box.Post("/api/v1/users", {{"login", "student.a"}, {"password", kPassword}, {"role", "student"}}, f.admin), 409,
      "login taken");
}

}  // namespace
}  // namespace relais::testing
