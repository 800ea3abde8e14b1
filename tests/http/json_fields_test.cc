// The strict JSON field readers both programs use (http/json_fields.h).
#include "http/json_fields.h"

#include <doctest/doctest.h>

namespace relais::http {

TEST_CASE("a field's error names it quoted at the top of a body, and by its path inside a document") {
  json o = {{"title", 3}};
  CHECK(RequiredString(o, "title", 10).status().message() == "'title' must be a string");
  CHECK(RequiredString(o, "title", 10, "homework[2]").status().message() == "homework[2].title: must be a string");
  CHECK(FieldError("publication", "", "must be an object").message() == "publication: must be an object");
  CHECK(RequiredString(o, "title", 10).status().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("a string field is required, bounded in bytes, and absent or null is nothing") {
  json o = {{"a", "hello"}, {"n", nullptr}};
  CHECK(RequiredString(o, "a", 5).value() == "hello");
  CHECK(RequiredString(o, "a", 4).status().message() == "'a' is longer than 4 bytes");
  CHECK(RequiredString(o, "missing", 4).status().message() == "'missing' is required");
  CHECK(RequiredString(o, "n", 4, "users[0]").status().message() == "users[0].n: is required");
  CHECK_FALSE(OptionalString(o, "n", 4).value().has_value());
  CHECK_FALSE(OptionalString(o, "missing", 4).value().has_value());
}

TEST_CASE("booleans, numbers and times refuse the wrong type") {
  json o = {{"b", "yes"}, {"x", "1"}, {"t", "tomorrow"}, {"ok", true}, {"n", 2.5}, {"d", "2026-11-30"}};
  CHECK(OptionalBool(o, "b").status().message() == "'b' must be true or false");
  CHECK(OptionalBool(o, "ok").value() == true);
  CHECK(OptionalNumber(o, "x").status().message() == "'x' must be a number");
  CHECK(OptionalNumber(o, "n").value() == 2.5);
  CHECK(OptionalTime(o, "t", false).status().message() ==
        "'t' must be a date and time like 2026-11-30T18:00:00+01:00 or 2026-11-30");
  auto start = OptionalTime(o, "d", false).value();
  auto end = OptionalTime(o, "d", true).value();
  REQUIRE(start);
  REQUIRE(end);
  CHECK(*end > *start);
}

TEST_CASE("a list of ids is bounded in items and holds only short strings") {
  json o = {{"ids", {"a", "b", "c"}}, {"bad", {"a", 1}}, {"long", {std::string(65, 'x')}}, {"obj", {{"k", 1}}}};
  CHECK(OptionalStringList(o, "ids", 3).value()->size() == 3);
  CHECK(OptionalStringList(o, "ids", 2).status().message() == "'ids' has more than 2 items");
  CHECK(OptionalStringList(o, "bad", 5).status().message() == "'bad' must be a list of ids");
  CHECK(OptionalStringList(o, "long", 5).status().message() == "'long' must be a list of ids");
  CHECK(OptionalStringList(o, "obj", 5, "files").status().message() == "files.obj: must be a list of ids");
}

TEST_CASE("an array field is empty when absent, and an object holds only the fields allowed") {
  json o = {{"items", {1, 2}}, {"name", "x"}};
  CHECK(OptionalArray(o, "items").value().size() == 2);
  CHECK(OptionalArray(o, "none").value().empty());
  CHECK(OptionalArray(o, "name", "publication").status().message() == "publication.name: must be an array");
  CHECK(OnlyFields(o, "publication", {"items", "name"}).ok());
  CHECK(OnlyFields(o, "users[1]", {"items"}).message() == "users[1].name: unknown field");
  CHECK(OnlyFields(json::array(), "publication", {"items"}).message() == "publication: must be an object");
}

}  // namespace relais::http
