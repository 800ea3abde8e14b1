#include <doctest/doctest.h>

#include <filesystem>

#include "content/school.h"
#include "core/crypto.h"

namespace fs = std::filesystem;
using namespace relais;
using namespace relais::content;

namespace {

struct CourseFixture {
  fs::path dir = fs::temp_directory_path() / ("relais-courses-" + core::RandomToken(8));
  core::FakeClock clock{1795000000};
  std::unique_ptr<School> school;
  Viewer admin, teacher, other_teacher, student, outsider;
  std::string class_id, other_class_id;

  CourseFixture() {
    school = std::move(School::Open(dir, clock).value());
    auto& a = school->accounts();
    class_id = a.CreateClass(nullptr, "6e A")->id;
    other_class_id = a.CreateClass(nullptr, "5e B")->id;
    auto make = [&](const char* login, Role role, const std::string& cls) {
      User u = a.CreateUser(nullptr, {login, login, role, "password1", std::nullopt}).value();
      if (!cls.empty()) REQUIRE(a.AddMember(nullptr, cls, u.id).ok());
      return Viewer{u.id, u.login, u.role, "test"};
    };
    admin = make("admin", Role::kAdmin, "");
    teacher = make("prof", Role::kTeacher, class_id);
    other_teacher = make("prof2", Role::kTeacher, other_class_id);
    student = make("eleve", Role::kStudent, class_id);
    outsider = make("eleve2", Role::kStudent, other_class_id);
  }
  ~CourseFixture() {
    school.reset();
    fs::remove_all(dir);
  }
};

}  // namespace

TEST_CASE("a teacher builds a course that the class's students can read") {
  CourseFixture f;
  auto& courses = f.school->courses();
  auto course = courses.Create(f.teacher, f.class_id, "Mathématiques");
  REQUIRE(course.ok());
  auto s1 = courses.AddSection(f.teacher, course->id, "Chapitre 2", std::nullopt);
  auto s0 = courses.AddSection(f.teacher, course->id, "Chapitre 1", 0);
  REQUIRE(s1.ok());
  REQUIRE(s0.ok());
  REQUIRE(courses.UpdateSection(f.teacher, s1->id, std::nullopt, 5).ok());
  REQUIRE(courses
              .AddResource(f.teacher, s0->id,
                           {"text", "À retenir", std::nullopt, std::nullopt, "<p>Une fraction</p><script>x()</script>",
                            std::nullopt})
              .ok());
  REQUIRE(courses
              .AddResource(f.teacher, s0->id,
                           {"link", "Lumni", std::nullopt, "https://www.lumni.fr/", std::nullopt, std::nullopt})
              .ok());
  auto seen = courses.ListForClass(f.student, f.class_id);
  REQUIRE(seen.ok());
  REQUIRE(seen->size() == 1);
  const Course& c = seen->front();
  REQUIRE(c.sections.size() == 2);
  CHECK(c.sections[0].title == "Chapitre 1");
  REQUIRE(c.sections[0].resources.size() == 2);
  CHECK(c.sections[0].resources[0].body == std::optional<std::string>("Une fraction"));
  CHECK(c.sections[0].resources[1].url == std::optional<std::string>("https://www.lumni.fr/"));
}

TEST_CASE("students and strangers cannot change or see another class's courses") {
  CourseFixture f;
  auto& courses = f.school->courses();
  auto course = courses.Create(f.teacher, f.class_id, "Histoire");
  REQUIRE(course.ok());
  CHECK(courses.Create(f.student, f.class_id, "Piratage").status().code() == StatusCode::kPermissionDenied);
  CHECK(courses.Rename(f.student, course->id, "x").status().code() == StatusCode::kPermissionDenied);
  CHECK(courses.Get(f.outsider, course->id).status().code() == StatusCode::kNotFound);
  CHECK(courses.ListForClass(f.other_teacher, f.class_id).status().code() == StatusCode::kNotFound);
  CHECK(courses.Delete(f.other_teacher, course->id).code() == StatusCode::kNotFound);
  CHECK(courses.Get(f.admin, course->id).ok());
}

TEST_CASE("a link resource must be a web address") {
  CourseFixture f;
  auto& courses = f.school->courses();
  auto course = courses.Create(f.teacher, f.class_id, "Français");
  auto section = courses.AddSection(f.teacher, course->id, "Lectures", std::nullopt);
  REQUIRE(section.ok());
  for (const char* url : {"javascript:alert(1)", "file:///etc/passwd", "https://a b", ""}) {
    CAPTURE(url);
    auto r = courses.AddResource(f.teacher, section->id, {"link", "x", std::nullopt, url, std::nullopt, std::nullopt});
    CHECK(r.status().code() == StatusCode::kInvalidArgument);
  }
  CHECK(courses
            .AddResource(f.teacher, section->id, {"video", "x", std::nullopt, std::nullopt, std::nullopt, std::nullopt})
            .status()
            .code() == StatusCode::kInvalidArgument);
}

TEST_CASE("deleting a section hides its resources, and a deleted course is gone for everyone") {
  CourseFixture f;
  auto& courses = f.school->courses();
  auto course = courses.Create(f.teacher, f.class_id, "Sciences");
  auto section = courses.AddSection(f.teacher, course->id, "Le vivant", std::nullopt);
  auto r =
      courses.AddResource(f.teacher, section->id, {"text", "Notes", std::nullopt, std::nullopt, "texte", std::nullopt});
  REQUIRE(r.ok());
  REQUIRE(courses.DeleteSection(f.teacher, section->id).ok());
  CHECK(courses.UpdateResource(f.teacher, r->id, "x", std::nullopt).status().code() == StatusCode::kNotFound);
  CHECK(courses.Get(f.student, course->id)->sections.empty());
  REQUIRE(courses.Delete(f.teacher, course->id).ok());
  CHECK(courses.Get(f.student, course->id).status().code() == StatusCode::kNotFound);
  CHECK(courses.ListForClass(f.student, f.class_id)->empty());
}

TEST_CASE("a student may read a file only through a course of their own class") {
  CourseFixture f;
  auto blob = f.school->blobs().Put("%PDF-1.4\nfiche");
  REQUIRE(blob.ok());
  auto file = f.school->files().Record(f.teacher, *blob, "application/pdf", "fiche.pdf");
  REQUIRE(file.ok());
  CHECK(f.school->files().GetReadable(f.student, file->id).status().code() == StatusCode::kNotFound);
  auto course = f.school->courses().Create(f.teacher, f.class_id, "Maths");
  auto section = f.school->courses().AddSection(f.teacher, course->id, "Fiches", std::nullopt);
  REQUIRE(
      f.school->courses()
          .AddResource(f.teacher, section->id, {"file", "Fiche", file->id, std::nullopt, std::nullopt, std::nullopt})
          .ok());
  CHECK(f.school->files().GetReadable(f.student, file->id).ok());
  CHECK(f.school->files().GetReadable(f.outsider, file->id).status().code() == StatusCode::kNotFound);
  // A student's own upload cannot be put in a course by another class's teacher.
  auto other_course = f.school->courses().Create(f.other_teacher, f.other_class_id, "Maths");
  auto other_section = f.school->courses().AddSection(f.other_teacher, other_course->id, "Fiches", std::nullopt);
  CHECK(f.school->courses()
            .AddResource(f.other_teacher, other_section->id,
                         {"file", "Volée", file->id, std::nullopt, std::nullopt, std::nullopt})
            .status()
            .code() == StatusCode::kPermissionDenied);
}
