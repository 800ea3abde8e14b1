// content/courses.h — course material per class: courses → sections → resources.
//
// A resource is an uploaded file, a link, or a text. Members of the class
// read; teachers of the class (and admins) write. Deletions are soft
// (tombstones for sync) and cascade to what is below.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "content/types.h"
#include "core/clock.h"
#include "core/db.h"

namespace relais::content {

struct Resource {
  std::string id;
  std::string section_id;
  std::string kind;  // "file", "link", "text"
  std::string title;
  std::optional<FileInfo> file;
  std::optional<std::string> url;
  std::optional<std::string> body;
  int position = 0;
  std::string created_at, updated_at;
};

struct Section {
  std::string id;
  std::string course_id;
  std::string title;
  int position = 0;
  std::vector<Resource> resources;
};

struct Course {
  std::string id;
  std::string class_id;
  std::string title;
  std::string created_at, updated_at;
  std::vector<Section> sections;
};

struct ResourceInput {
  std::string kind;
  std::string title;
  std::optional<std::string> file_id, url, body;
  std::optional<int> position;
};

class CourseStore {
 public:
  CourseStore(core::DbPool& db, const core::Clock& clock) : db_(db), clock_(clock) {}

  // Courses of a class with their sections and resources; class members and admins.
  Result<std::vector<Course>> ListForClass(const Viewer& viewer, std::string_view class_id);
  Result<Course> Get(const Viewer& viewer, std::string_view course_id);
  Result<Course> Create(const Viewer& viewer, std::string_view class_id, std::string_view title);
  Result<Course> Rename(const Viewer& viewer, std::string_view course_id, std::string_view title);
  Status Delete(const Viewer& viewer, std::string_view course_id);

  Result<Section> AddSection(const Viewer& viewer, std::string_view course_id, std::string_view title,
                             std::optional<int> position);
  Result<Section> UpdateSection(const Viewer& viewer, std::string_view section_id,
                                const std::optional<std::string>& title, std::optional<int> position);
  Status DeleteSection(const Viewer& viewer, std::string_view section_id);

  // Links must be http(s) URLs; files must be attachable by the viewer.
  Result<Resource> AddResource(const Viewer& viewer, std::string_view section_id, const ResourceInput& input);
  Result<Resource> UpdateResource(const Viewer& viewer, std::string_view resource_id,
                                  const std::optional<std::string>& title, std::optional<int> position);
  Status DeleteResource(const Viewer& viewer, std::string_view resource_id);

 private:
  core::DbPool& db_;
  const core::Clock& clock_;
};

}  // namespace relais::content
