// The authorisation matrix: every endpoint of the route table, called by
// every kind of user, on objects of their class, of another class, and of
// another student. The rules (content/access.h): anonymous callers get 401;
// an object the caller may not see is 404, as if it did not exist; an object
// they may see but not act on is 403.
#include <doctest/doctest.h>

#include <array>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "box/assets.h"
#include "tests/box/test_server.h"

namespace relais::testing {

using namespace relais::box;
using namespace relais::http;
namespace {

enum Who { kAnonymous, kStudentOfClass, kStudentOfOther, kTeacherOfClass, kTeacherOfOther, kAdmin, kWhoCount };
const char* const kWhoNames[kWhoCount] = {"anonymous",
                                          "a student of the class",
                                          "a student of another class",
                                          "a teacher of the class",
                                          "a teacher of another class",
                                          "an admin"};

// The school the matrix runs in. Class A is "the class"; class B "another class".
struct World {
  explicit World(TestServer& b) : box(b), cast(SeedTwoClasses(b)) {
    logins = {"", "student.a", "student.b", "teacher.a", "teacher.b", "admin"};
    for (int w = 0; w < kWhoCount; ++w) tokens[w] = logins[w].empty() ? "" : box.Login(logins[w]);
    std::string ta = tokens[kTeacherOfClass], tb = tokens[kTeacherOfOther];
    std::string a2 = box.Login("student.a2");
    class_file = UploadOk(ta, PdfBytes("class"), "cours.pdf");
    draft_file = UploadOk(ta, PdfBytes("draft"), "brouillon.pdf");
    other_class_file = UploadOk(tb, PdfBytes("other class"), "autre.pdf");
    other_student_file = UploadOk(a2, JpegBytes(), "copie.jpg");
    loose_file = UploadOk(a2, JpegBytes(900), "perso.jpg");
    homework = NewHomework(ta, cast.class_a.id, true, {class_file});
    draft = NewHomework(ta, cast.class_a.id, false, {draft_file});
    other_homework = NewHomework(tb, cast.class_b.id, true, {other_class_file});
    Reply s = box.Post("/api/v1/homework/" + homework + "/submissions",
                       {{"text", "Mon travail"}, {"files", {other_student_file}}}, a2);
    REQUIRE_MESSAGE(s.status == 201, Describe(s));
    other_submission = s.body["id"];
    course = NewCourse(ta, cast.class_a.id);
    other_course = NewCourse(tb, cast.class_b.id);
    section = NewSection(ta, course);
    other_section = NewSection(tb, other_course);
    resource = NewResource(ta, section, {{"kind", "text"}, {"title", "Résumé"}, {"body", "La photosynthèse"}});
    other_course_file = UploadOk(tb, PdfBytes("course of another class"), "chapitre.pdf");
    other_resource =
        NewResource(tb, other_section, {{"kind", "file"}, {"title", "Chapitre"}, {"file_id", other_course_file}});
  }

  std::string Created(const Reply& r) {
    REQUIRE_MESSAGE(r.status == 201, Describe(r));
    return r.body["id"];
  }
  std::string NewCourse(const std::string& token, const std::string& class_id) {
    return Created(
        box.Post("/api/v1/classes/" + class_id + "/courses", {{"title", "Cours " + std::to_string(++counter)}}, token));
  }
  std::string NewSection(const std::string& token, const std::string& course_id) {
    return Created(box.Post("/api/v1/courses/" + course_id + "/sections",
                            {{"title", "Partie " + std::to_string(++counter)}}, token));
  }
  std::string NewResource(const std::string& token, const std::string& section_id, const json& body) {
    return Created(box.Post("/api/v1/sections/" + section_id + "/resources", body, token));
  }

  std::string UploadOk(const std::string& token, const std::string& bytes, const std::string& name) {
    std::string type = bytes.rfind("%PDF", 0) == 0 ? "application/pdf" : "image/jpeg";
    Reply r = box.Upload(token, bytes, type, name);
    REQUIRE_MESSAGE(r.status == 201, Describe(r));
    return r.body["id"];
  }

  std::string NewHomework(const std::string& token, const std::string& class_id, bool published,
                          const std::vector<std::string>& attachments) {
    Reply r = box.Post("/api/v1/homework",
                       {{"class_id", class_id},
                        {"subject", "Français"},
                        {"title", "Rédaction " + std::to_string(++counter)},
                        {"due_at", DueIn(box, 7)},
                        {"attachments", attachments},
                        {"published", published}},
                       token);
    REQUIRE_MESSAGE(r.status == 201, Describe(r));
    return r.body["id"];
  }

  TestServer& box;
  Cast cast;
  std::array<std::string, kWhoCount> logins;
  std::array<std::string, kWhoCount> tokens;
  std::string class_file, draft_file, other_class_file, other_student_file, loose_file;
  std::string homework, draft, other_homework, other_submission;
  std::string course, other_course, section, other_section, resource, other_resource, other_course_file;
  int counter = 0;
};

// The object a path's ":id" (or a body's class) stands for. "fresh …" objects
// are made anew for each call, for the endpoints that destroy what they touch.
std::string Resolve(World& w, const std::string& object) {
  std::string ta = w.tokens[kTeacherOfClass], tb = w.tokens[kTeacherOfOther];
  if (object == "" || object == "the class") return w.cast.class_a.id;
  if (object == "another class") return w.cast.class_b.id;
  if (object == "homework of the class") return w.homework;
  if (object == "draft homework") return w.draft;
  if (object == "homework of another class") return w.other_homework;
  if (object == "another student's submission") return w.other_submission;
  if (object == "a file of the class's homework") return w.class_file;
  if (object == "a file of a draft") return w.draft_file;
  if (object == "a file of another class's homework") return w.other_class_file;
  if (object == "another student's handed-in file") return w.other_student_file;
  if (object == "another student's unattached file") return w.loose_file;
  if (object == "fresh homework of the class") return w.NewHomework(ta, w.cast.class_a.id, true, {});
  if (object == "fresh draft homework") return w.NewHomework(ta, w.cast.class_a.id, false, {});
  if (object == "fresh homework of another class") return w.NewHomework(tb, w.cast.class_b.id, true, {});
  static int fresh_user = 0;
  if (object == "a fresh student of the class")
    return w.box.AddUser("fresh.a" + std::to_string(++fresh_user), content::Role::kStudent, "5e A").id;
  if (object == "a fresh student of another class")
    return w.box.AddUser("fresh.b" + std::to_string(++fresh_user), content::Role::kStudent, "5e B").id;
  if (object == "a fresh teacher of the class")
    return w.box.AddUser("fresh.t" + std::to_string(++fresh_user), content::Role::kTeacher, "5e A").id;
  if (object == "a fresh empty class") return w.box.AddClass("Vide " + std::to_string(++fresh_user)).id;
  if (object == "a course of the class") return w.course;
  if (object == "a course of another class") return w.other_course;
  if (object == "a section of the class") return w.section;
  if (object == "a section of another class") return w.other_section;
  if (object == "a resource of the class") return w.resource;
  if (object == "a resource of another class") return w.other_resource;
  if (object == "a file of another class's course") return w.other_course_file;
  if (object == "fresh course of the class") return w.NewCourse(ta, w.cast.class_a.id);
  if (object == "fresh course of another class") return w.NewCourse(tb, w.cast.class_b.id);
  if (object == "fresh section of the class") return w.NewSection(ta, w.course);
  if (object == "fresh section of another class") return w.NewSection(tb, w.other_course);
  if (object == "fresh resource of the class")
    return w.NewResource(ta, w.section, {{"kind", "link"}, {"title", "Lien"}, {"url", "https://example.org/"}});
  if (object == "fresh resource of another class")
    return w.NewResource(tb, w.other_section, {{"kind", "link"}, {"title", "Lien"}, {"url", "https://example.org/"}});
  if (object == "an app route") return "homework/" + w.homework;
  if (object == "the app's stylesheet") {
    for (const EmbeddedAsset& a : EmbeddedAssets())
      if (a.source == "app.css") return std::string(a.url.substr(std::string_view("/assets/").size()));
  }
  if (object == "an asset of another build") return "app.0000000000.css";
  FAIL("unknown object " << object);
  return "";
}

struct Row {
  const char* method;
  const char* pattern;
  const char* object;
  std::array<int, kWhoCount> expected;  // anonymous, student A, student B, teacher A, teacher B, admin
};

// clang-format off
const Row kMatrix[] = {
  // method    pattern                               object                                anon  stA  stB  teA  teB  admin
  {"POST",   "/api/v1/session",                    "",                                    {200, 200, 200, 200, 200, 200}},
  {"DELETE", "/api/v1/session",                    "",                                    {401, 200, 200, 200, 200, 200}},
  {"GET",    "/api/v1/me",                         "",                                    {401, 200, 200, 200, 200, 200}},
  {"GET",    "/api/v1/setup",                      "",                                    {200, 200, 200, 200, 200, 200}},
  {"POST",   "/api/v1/setup",                      "",                                    {409, 409, 409, 409, 409, 409}},
  {"GET",    "/api/v1/classes",                    "",                                    {401, 200, 200, 200, 200, 200}},
  {"POST",   "/api/v1/classes",                    "",                                    {401, 403, 403, 403, 403, 201}},
  {"GET",    "/api/v1/classes/:id/members",        "the class",                           {401, 403, 404, 200, 404, 200}},
  {"POST",   "/api/v1/classes/:id/members",        "the class",                           {401, 403, 403, 403, 403, 201}},
  {"PATCH",  "/api/v1/classes/:id",                "a fresh empty class",                 {401, 403, 403, 403, 403, 200}},
  {"DELETE", "/api/v1/classes/:id",                "a fresh empty class",                 {401, 403, 403, 403, 403, 200}},
  {"DELETE", "/api/v1/classes/:id/members/:user_id",
                                                   "the class",                           {401, 403, 403, 403, 403, 200}},
  {"GET",    "/api/v1/users",                      "",                                    {401, 403, 403, 200, 200, 200}},
  {"GET",    "/api/v1/sync/conflicts",             "",                                    {401, 403, 403, 200, 200, 200}},
  {"POST",   "/api/v1/users",                      "",                                    {401, 403, 403, 403, 403, 201}},
  {"PATCH",  "/api/v1/users/:id",                  "a fresh student of the class",        {401, 403, 403, 403, 403, 200}},
  {"POST",   "/api/v1/roster",                     "",                                    {401, 403, 403, 403, 403, 200}},
  {"POST",   "/api/v1/users/:id/password",         "a fresh student of the class",        {401, 403, 403, 200, 404, 200}},
  {"POST",   "/api/v1/users/:id/password",         "a fresh student of another class",    {401, 403, 403, 404, 200, 200}},
  {"POST",   "/api/v1/users/:id/password",         "a fresh teacher of the class",        {401, 403, 403, 404, 404, 200}},
  {"GET",    "/api/v1/classes/:id/login-cards",    "the class",                           {401, 403, 404, 200, 404, 200}},
  {"POST",   "/api/v1/classes/:id/login-cards",    "the class",                           {401, 403, 404, 201, 404, 201}},
  {"POST",   "/api/v1/classes/:id/login-cards",    "another class",                       {401, 404, 403, 404, 201, 201}},
  {"GET",    "/c/:token",                          "",                                    {303, 303, 303, 303, 303, 303}},
  {"POST",   "/api/v1/files",                      "",                                    {401, 201, 201, 201, 201, 201}},
  {"GET",    "/api/v1/files/:id",                  "a file of the class's homework",      {401, 200, 404, 200, 404, 200}},
  {"GET",    "/api/v1/files/:id",                  "a file of a draft",                   {401, 404, 404, 200, 404, 200}},
  {"GET",    "/api/v1/files/:id",                  "a file of another class's homework",  {401, 404, 200, 404, 200, 200}},
  {"GET",    "/api/v1/files/:id",                  "another student's handed-in file",    {401, 404, 404, 200, 404, 200}},
  {"GET",    "/api/v1/files/:id",                  "another student's unattached file",   {401, 404, 404, 404, 404, 200}},
  {"GET",    "/api/v1/files/:id",                  "a file of another class's course",    {401, 404, 200, 404, 200, 200}},
  {"GET",    "/api/v1/files/:id/info",             "a file of the class's homework",      {401, 200, 404, 200, 404, 200}},
  {"GET",    "/api/v1/files/:id/info",             "a file of a draft",                   {401, 404, 404, 200, 404, 200}},
  {"GET",    "/api/v1/files/:id/info",             "a file of another class's homework",  {401, 404, 200, 404, 200, 200}},
  {"GET",    "/api/v1/files/:id/info",             "another student's handed-in file",    {401, 404, 404, 200, 404, 200}},
  {"GET",    "/api/v1/files/:id/info",             "another student's unattached file",   {401, 404, 404, 404, 404, 200}},
  {"POST",   "/api/v1/homework",                   "the class",                           {401, 403, 404, 201, 404, 201}},
  {"POST",   "/api/v1/homework",                   "another class",                       {401, 404, 403, 404, 201, 201}},
  {"GET",    "/api/v1/homework",                   "",                                    {401, 200, 200, 200, 200, 200}},
  {"GET",    "/api/v1/homework/:id",               "homework of the class",               {401, 200, 404, 200, 404, 200}},
  {"GET",    "/api/v1/homework/:id",               "draft homework",                      {401, 404, 404, 200, 404, 200}},
  {"GET",    "/api/v1/homework/:id",               "homework of another class",           {401, 404, 200, 404, 200, 200}},
  {"PATCH",  "/api/v1/homework/:id",               "homework of the class",               {401, 403, 404, 200, 404, 200}},
  {"PATCH",  "/api/v1/homework/:id",               "draft homework",                      {401, 404, 404, 200, 404, 200}},
  {"PATCH",  "/api/v1/homework/:id",               "homework of another class",           {401, 404, 403, 404, 200, 200}},
  {"DELETE", "/api/v1/homework/:id",               "fresh homework of the class",         {401, 403, 404, 200, 404, 200}},
  {"DELETE", "/api/v1/homework/:id",               "fresh draft homework",                {401, 404, 404, 200, 404, 200}},
  {"DELETE", "/api/v1/homework/:id",               "fresh homework of another class",     {401, 404, 403, 404, 200, 200}},
  {"POST",   "/api/v1/homework/:id/submissions",   "homework of the class",               {401, 201, 404, 403, 404, 403}},
  {"POST",   "/api/v1/homework/:id/submissions",   "draft homework",                      {401, 404, 404, 403, 404, 403}},
  {"POST",   "/api/v1/homework/:id/submissions",   "homework of another class",           {401, 404, 201, 404, 403, 403}},
  {"GET",    "/api/v1/homework/:id/submissions",   "homework of the class",               {401, 200, 404, 200, 404, 200}},
  {"GET",    "/api/v1/homework/:id/submissions",   "draft homework",                      {401, 404, 404, 200, 404, 200}},
  {"GET",    "/api/v1/homework/:id/submissions",   "homework of another class",           {401, 404, 200, 404, 200, 200}},
  {"GET",    "/api/v1/submissions/:id",            "another student's submission",        {401, 404, 404, 200, 404, 200}},
  {"POST",   "/api/v1/submissions/:id/feedback",   "another student's submission",        {401, 404, 404, 201, 404, 201}},
  {"GET",    "/api/v1/classes/:id/courses",        "the class",                           {401, 200, 404, 200, 404, 200}},
  {"GET",    "/api/v1/classes/:id/courses",        "another class",                       {401, 404, 200, 404, 200, 200}},
  {"POST",   "/api/v1/classes/:id/courses",        "the class",                           {401, 403, 404, 201, 404, 201}},
  {"POST",   "/api/v1/classes/:id/courses",        "another class",                       {401, 404, 403, 404, 201, 201}},
  {"GET",    "/api/v1/courses/:id",                "a course of the class",               {401, 200, 404, 200, 404, 200}},
  {"GET",    "/api/v1/courses/:id",                "a course of another class",           {401, 404, 200, 404, 200, 200}},
  {"PATCH",  "/api/v1/courses/:id",                "a course of the class",               {401, 403, 404, 200, 404, 200}},
  {"PATCH",  "/api/v1/courses/:id",                "a course of another class",           {401, 404, 403, 404, 200, 200}},
  {"DELETE", "/api/v1/courses/:id",                "fresh course of the class",           {401, 403, 404, 200, 404, 200}},
  {"DELETE", "/api/v1/courses/:id",                "fresh course of another class",       {401, 404, 403, 404, 200, 200}},
  {"POST",   "/api/v1/courses/:id/sections",       "a course of the class",               {401, 403, 404, 201, 404, 201}},
  {"POST",   "/api/v1/courses/:id/sections",       "a course of another class",           {401, 404, 403, 404, 201, 201}},
  {"PATCH",  "/api/v1/sections/:id",               "a section of the class",              {401, 403, 404, 200, 404, 200}},
  {"PATCH",  "/api/v1/sections/:id",               "a section of another class",          {401, 404, 403, 404, 200, 200}},
  {"DELETE", "/api/v1/sections/:id",               "fresh section of the class",          {401, 403, 404, 200, 404, 200}},
  {"DELETE", "/api/v1/sections/:id",               "fresh section of another class",      {401, 404, 403, 404, 200, 200}},
  {"POST",   "/api/v1/sections/:id/resources",     "a section of the class",              {401, 403, 404, 201, 404, 201}},
  {"POST",   "/api/v1/sections/:id/resources",     "a section of another class",          {401, 404, 403, 404, 201, 201}},
  {"PATCH",  "/api/v1/resources/:id",              "a resource of the class",             {401, 403, 404, 200, 404, 200}},
  {"PATCH",  "/api/v1/resources/:id",              "a resource of another class",         {401, 404, 403, 404, 200, 200}},
  {"DELETE", "/api/v1/resources/:id",              "fresh resource of the class",         {401, 403, 404, 200, 404, 200}},
  {"DELETE", "/api/v1/resources/:id",              "fresh resource of another class",     {401, 404, 403, 404, 200, 200}},
  {"GET",    "/api/v1/health",                     "",                                    {200, 200, 200, 200, 200, 200}},
  {"POST",   "/api/v1/admin/time",                 "",                                    {401, 403, 403, 403, 403, 200}},
  {"GET",    "/api/v1/admin/status",               "",                                    {401, 403, 403, 403, 403, 200}},
  {"POST",   "/api/v1/admin/sync",                 "",                                    {401, 403, 403, 403, 403, 409}},
  {"GET",    "/metrics",                           "",                                    {200, 200, 200, 200, 200, 200}},
  {"GET",    "/generate_204",                      "",                                    {204, 204, 204, 204, 204, 204}},
  {"GET",    "/gen_204",                           "",                                    {204, 204, 204, 204, 204, 204}},
  {"GET",    "/hotspot-detect.html",               "",                                    {200, 200, 200, 200, 200, 200}},
  {"GET",    "/library/test/success.html",         "",                                    {200, 200, 200, 200, 200, 200}},
  {"GET",    "/connecttest.txt",                   "",                                    {200, 200, 200, 200, 200, 200}},
  {"GET",    "/ncsi.txt",                          "",                                    {200, 200, 200, 200, 200, 200}},
  {"GET",    "/success.txt",                       "",                                    {200, 200, 200, 200, 200, 200}},
  {"GET",    "/canonical.html",                    "",                                    {200, 200, 200, 200, 200, 200}},
  {"GET",    "/check_network_status.txt",          "",                                    {200, 200, 200, 200, 200, 200}},
  {"GET",    "/captive-portal-api",                "",                                    {200, 200, 200, 200, 200, 200}},
  // The test box has no installation address (api_test.cc covers one that has).
  {"GET",    "/installation",                      "",                                    {404, 404, 404, 404, 404, 404}},
  {"GET",    "/",                                  "",                                    {200, 200, 200, 200, 200, 200}},
  {"GET",    "/app/*",                             "an app route",                        {200, 200, 200, 200, 200, 200}},
  {"GET",    "/sw.js",                             "",                                    {200, 200, 200, 200, 200, 200}},
  {"GET",    "/assets/*",                          "the app's stylesheet",                {200, 200, 200, 200, 200, 200}},
  {"GET",    "/assets/*",                          "an asset of another build",           {404, 404, 404, 404, 404, 404}},
  // The test box has no CA of its own (tls_test.cc covers one that has).
  {"GET",    "/ca.crt",                            "",                                    {404, 404, 404, 404, 404, 404}},
};
// clang-format on

// A valid body for the endpoint, so that only authorisation can refuse it.
json BodyFor(World& w, const Row& row, Who who, const std::string& object_id) {
  std::string p = row.pattern, m = row.method;
  static int unique = 0;
  ++unique;
  if (m == "POST" && p == "/api/v1/session")
    return {{"login", who == kAnonymous ? "student.a2" : w.logins[who]}, {"password", kPassword}};
  if (m == "POST" && p == "/api/v1/setup")
    return {{"code", "xxxx-xxxx-xxxx"}, {"school_name", "École"}, {"login", "root"}, {"password", kPassword}};
  if (m == "POST" && p == "/api/v1/classes") return {{"name", "Classe " + std::to_string(unique)}};
  if (m == "POST" && p == "/api/v1/classes/:id/members") {
    content::User extra = w.box.AddUser("extra" + std::to_string(unique), content::Role::kStudent);
    return {{"user_id", extra.id}};
  }
  if (m == "POST" && p == "/api/v1/users")
    return {{"login", "new" + std::to_string(unique)}, {"password", kPassword}, {"role", "student"}};
  if (m == "POST" && p == "/api/v1/homework")
    return {{"class_id", object_id}, {"subject", "Maths"}, {"title", "Problème"}, {"due_at", DueIn(w.box, 3)}};
  if (m == "PATCH" && p == "/api/v1/classes/:id") return {{"name", "Classe renommée " + std::to_string(unique)}};
  if (m == "PATCH" && p == "/api/v1/users/:id") return {{"display_name", "Nom " + std::to_string(unique)}};
  if (m == "PATCH") return {{"title", "Titre modifié " + std::to_string(unique)}};
  if (m == "POST" && (p == "/api/v1/classes/:id/courses" || p == "/api/v1/courses/:id/sections"))
    return {{"title", "Nouveau " + std::to_string(unique)}};
  if (m == "POST" && p == "/api/v1/sections/:id/resources")
    return {{"kind", "text"}, {"title", "Note " + std::to_string(unique)}, {"body", "À lire"}};
  if (m == "POST" && p == "/api/v1/users/:id/password") return json::object();       // a generated one
  if (m == "POST" && p == "/api/v1/classes/:id/login-cards") return json::object();  // every student
  if (m == "POST" && p == "/api/v1/admin/time") return {{"time", core::FormatTime(w.box.clock().Now())}};
  if (m == "POST" && p == "/api/v1/homework/:id/submissions") return {{"text", "Ma réponse"}};
  if (m == "POST" && p == "/api/v1/submissions/:id/feedback") return {{"comment", "Bien"}, {"grade", 14}};
  return nullptr;
}

Reply Call(World& w, const Row& row, Who who) {
  std::string pattern = row.pattern;
  bool path_has_id = pattern.find(":id") != std::string::npos;
  std::string object_id = row.object[0] ? Resolve(w, row.object) : "";
  std::string path = pattern;
  if (path_has_id) path.replace(path.find(":id"), 3, object_id);
  if (path.back() == '*') path.replace(path.size() - 1, 1, object_id);
  static int member = 0;  // a fresh member of the class to remove
  if (size_t at = path.find(":user_id"); at != std::string::npos)
    path.replace(at, 8, w.box.AddUser("member" + std::to_string(++member), content::Role::kStudent, "5e A").id);
  std::string token = w.tokens[who];
  if (std::string(row.method) == "DELETE" && pattern == "/api/v1/session" && who != kAnonymous)
    token = w.box.Login(w.logins[who]);  // a session of its own, so the others live on
  if (pattern == "/api/v1/roster")
    return w.box.Send("POST", path, token,
                      "login;name;role;class\nroster" + std::to_string(++member) + ";Nouvel élève;student;5e A\n",
                      "text/csv");
  if (pattern == "/api/v1/files") return w.box.Upload(token, PdfBytes("matrix"), "application/pdf", "matrice.pdf");
  json body = BodyFor(w, row, who, object_id);
  if (body.is_null()) return w.box.Send(row.method, path, token);
  return w.box.Send(row.method, path, token, body.dump(), "application/json");
}

// The route table's lines in box/api.cc, as "METHOD /pattern".
std::set<std::string> RoutesInSource() {
  std::ifstream in(std::string(RELAIS_SOURCE_DIR) + "/box/api.cc");
  std::stringstream text;
  text << in.rdbuf();
  std::string src = text.str();
  size_t begin = src.find("Api::Routes()");
  size_t end = src.find("return kRoutes;", begin);
  REQUIRE(begin != std::string::npos);
  REQUIRE(end != std::string::npos);
  std::string table = src.substr(begin, end - begin);
  std::set<std::string> out;
  std::regex line(R"re(\{"([A-Z]+)",\s*"([^"]+)")re");
  for (auto it = std::sregex_iterator(table.begin(), table.end(), line); it != std::sregex_iterator(); ++it)
    out.insert((*it)[1].str() + " " + (*it)[2].str());
  return out;
}

TEST_CASE("the authorisation matrix covers every route in the table") {
  std::set<std::string> routes = RoutesInSource();
  CHECK(routes.size() >= 20);
  std::set<std::string> covered;
  for (const Row& row : kMatrix) covered.insert(std::string(row.method) + " " + row.pattern);
  for (const std::string& r : routes) CHECK_MESSAGE(covered.count(r) == 1, "no matrix row for " << r);
  for (const std::string& c : covered) CHECK_MESSAGE(routes.count(c) == 1, "matrix row for a missing route " << c);
}

TEST_CASE("every endpoint answers every kind of caller with the status the access rules give") {
  TestServer box;
  World w(box);
  for (int who = 0; who < kWhoCount; ++who) REQUIRE((who == kAnonymous) == w.tokens[who].empty());
  for (const Row& row : kMatrix) {
    for (int who = 0; who < kWhoCount; ++who) {
      Reply r = Call(w, row, static_cast<Who>(who));
      std::string cell = std::string(row.method) + " " + row.pattern + " on " + (row.object[0] ? row.object : "-") +
                         " as " + kWhoNames[who] + " -> " + Describe(r);
      INFO(cell);
      CHECK(r.status == row.expected[who]);
      if (r.status >= 400) CHECK(IsJsonError(r));
    }
  }
}

TEST_CASE("a student's homework list holds only the published homework of their classes") {
  TestServer box;
  World w(box);
  auto ids = [&](Who who) {
    std::set<std::string> out;
    Reply list = box.Get("/api/v1/homework", w.tokens[who]);
    for (const json& h : list.body["homework"]) out.insert(h["id"].get<std::string>());
    return out;
  };
  CHECK(ids(kStudentOfClass) == std::set<std::string>{w.homework});
  CHECK(ids(kStudentOfOther) == std::set<std::string>{w.other_homework});
  CHECK(ids(kTeacherOfClass) == std::set<std::string>{w.homework, w.draft});
  CHECK(ids(kTeacherOfOther) == std::set<std::string>{w.other_homework});
  CHECK(ids(kAdmin) == std::set<std::string>{w.homework, w.draft, w.other_homework});
  // Filtering by another class does not reveal it.
  Reply filtered = box.Get("/api/v1/homework?class_id=" + w.cast.class_b.id, w.tokens[kStudentOfClass]);
  CHECK(filtered.status == 200);
  CHECK(filtered.body["homework"].empty());
}

TEST_CASE("a student sees only their own row of a homework's submissions") {
  TestServer box;
  World w(box);
  Reply r = box.Get("/api/v1/homework/" + w.homework + "/submissions", w.tokens[kStudentOfClass]);
  REQUIRE(r.status == 200);
  REQUIRE(r.body["submissions"].size() == 1);
  CHECK(r.body["submissions"][0]["student"]["login"] == "student.a");
  CHECK(r.body["submissions"][0]["submission"].is_null());
  Reply teacher = box.Get("/api/v1/homework/" + w.homework + "/submissions", w.tokens[kTeacherOfClass]);
  CHECK(teacher.body["submissions"].size() == 2);
}

TEST_CASE("a student cannot read another student's submission but can read their own") {
  TestServer box;
  World w(box);
  CHECK(box.Get("/api/v1/submissions/" + w.other_submission, w.tokens[kStudentOfClass]).status == 404);
  std::string owner = box.Login("student.a2");
  Reply own = box.Get("/api/v1/submissions/" + w.other_submission, owner);
  CHECK(own.status == 200);
  CHECK(own.body["student"]["login"] == "student.a2");
  // … but may not return it to themselves.
  Reply self_grade = box.Post("/api/v1/submissions/" + w.other_submission + "/feedback", {{"grade", 20}}, owner);
  CHECK(self_grade.status == 403);
  CHECK(IsJsonError(self_grade));
  CHECK(box.Get("/api/v1/submissions/" + w.other_submission, owner).body["status"] == "handed_in");
}

TEST_CASE("a student cannot attach a file they may not use to a hand-in") {
  TestServer box;
  World w(box);
  std::string student = w.tokens[kStudentOfClass];
  // Another student's upload, and a homework attachment the student can read but did not upload.
  for (const std::string& file : {w.loose_file, w.other_student_file, w.class_file}) {
    Reply r =
        box.Post("/api/v1/homework/" + w.homework + "/submissions", {{"text", "copie"}, {"files", {file}}}, student);
    INFO(Describe(r));
    CHECK((r.status == 403 || r.status == 404));
    CHECK(IsJsonError(r));
  }
  // Nothing was handed in.
  Reply rows = box.Get("/api/v1/homework/" + w.homework + "/submissions", student);
  CHECK(rows.body["submissions"][0]["status"] == "todo");
}

TEST_CASE("a teacher cannot attach another class's file to their homework") {
  TestServer box;
  World w(box);
  Reply r = box.Post("/api/v1/homework",
                     {{"class_id", w.cast.class_a.id},
                      {"subject", "Maths"},
                      {"title", "Vol de fichier"},
                      {"due_at", DueIn(box, 2)},
                      {"attachments", {w.other_class_file}}},
                     w.tokens[kTeacherOfClass]);
  CHECK((r.status == 403 || r.status == 404));
  CHECK(IsJsonError(r));
}

TEST_CASE("a deleted homework disappears for everyone, its files with it") {
  TestServer box;
  World w(box);
  REQUIRE(box.Delete("/api/v1/homework/" + w.homework, w.tokens[kTeacherOfClass]).status == 200);
  for (Who who : {kStudentOfClass, kTeacherOfClass}) {
    CHECK(box.Get("/api/v1/homework/" + w.homework, w.tokens[who]).status == 404);
    CHECK(box.Get("/api/v1/homework", w.tokens[who]).body["homework"].size() == (who == kTeacherOfClass ? 1 : 0));
  }
  CHECK(box.Get("/api/v1/files/" + w.class_file, w.tokens[kStudentOfClass]).status == 404);
  CHECK(box.Delete("/api/v1/homework/" + w.homework, w.tokens[kTeacherOfClass]).status == 404);
}

// --- Authorisation before the body ----------------------------------------------------

size_t CountFiles(const fs::path& dir) {
  size_t n = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec))
    if (it->is_regular_file()) ++n;
  return n;
}

TEST_CASE("an anonymous upload is refused before its body is sent") {
  TestServer box;
  // Only the headers are sent: a server that waited for the body would not
  // answer before the exchange gives up (5 s; the server's own read timeout is 30 s).
  std::string reply = RawExchange(box.port(),
                                  "POST /api/v1/files HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                  "Content-Type: application/pdf\r\nX-Filename: big.pdf\r\n"
                                  "Content-Length: 150000000\r\n\r\n",
                                  5000);
  INFO(reply);
  CHECK(reply.rfind("HTTP/1.1 401", 0) == 0);
  CHECK(reply.find("\"error\"") != std::string::npos);
  CHECK(CountFiles(box.data_dir() / "tmp") == 0);
}

TEST_CASE("a student's call to an admin endpoint is refused before its body is sent") {
  TestServer box;
  SeedTwoClasses(box);
  std::string token = box.Login("student.a");
  std::string reply = RawExchange(box.port(),
                                  "POST /api/v1/users HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                  "Authorization: Bearer " +
                                      token +
                                      "\r\n"
                                      "Content-Type: application/json\r\nContent-Length: 500000\r\n\r\n",
                                  5000);
  INFO(reply);
  CHECK(reply.rfind("HTTP/1.1 403", 0) == 0);
}

}  // namespace
}  // namespace relais::testing
