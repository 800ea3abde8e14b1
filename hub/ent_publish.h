// hub/ent_publish.h — what the ENT publishes into a school (homework, course
// material, rosters, account ends), turned into the gateway's own journal
// operations for that school's log (docs/hub-api.md, "Publish").
//
// The gateway keeps no content database: it knows a school only through its
// operation log. A publication is therefore mapped to operations against a
// LogIndex — what the log says of each row (held or not, its newest hlc) —
// so that:
//  * a row the log does not hold yet gets an insert with every column the
//    box's schema has (content/migrations), and a row it holds gets an update
//    of the columns the ENT owns only (a box-set password is never touched);
//  * ids are derived, never random, so publishing twice is idempotent and an
//    ENT roster meets the accounts boxes made: users, classes and class
//    members as the box derives them (docs/sync.md, "Deterministic ids"), the
//    ENT's own objects as DerivedUuid("ent-homework" | "ent-course" |
//    "ent-section" | "ent-resource", ENT id);
//  * `base` is the newest hlc the log holds for the row, so the merge rule
//    "gateway wins" makes the ENT's edit win over a box edit not yet uploaded.
// Parsing is strict: an unknown field, a wrong type, a reference to a class
// or file the school does not have is InvalidArgument naming the field
// ("homework[2].due_at: …"), and nothing is published.
// Pure functions over their arguments; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "content/journal.h"
#include "core/status.h"

namespace relais::hub {

// What a school's log says of its rows.
class LogIndex {
 public:
  // `gateway_origin`: whose last written values GatewayValue remembers.
  explicit LogIndex(std::string gateway_origin) : gateway_origin_(std::move(gateway_origin)) {}

  // Takes one operation of the log into account (any order).
  void Add(const content::Op& op);

  // Whether some operation in the log inserted the row.
  bool Inserted(const std::string& table, const std::vector<core::SqlValue>& key) const;
  // Whether the row's newest insert-or-delete is an insert.
  bool Alive(const std::string& table, const std::vector<core::SqlValue>& key) const;
  // The newest hlc of an operation on the row (0 when none): the `base` of
  // the gateway's next operation on it.
  uint64_t Newest(const std::string& table, const std::vector<core::SqlValue>& key) const;
  // The newest hlc of the whole log.
  uint64_t max_hlc() const { return max_hlc_; }
  // The files attached to a homework (alive rows of homework_attachments).
  std::set<std::string> Attachments(const std::string& homework_id) const;
  // The user's alive class_members rows that only the gateway's origin ever
  // inserted (memberships the ENT made, never a box): class id -> row id.
  std::map<std::string, std::string> GatewayMemberships(const std::string& user_id) const;
  // The value the gateway's origin last wrote to a column of the row, or
  // nullptr: what the ENT last published, so that publishing the same thing
  // again writes nothing (and a box's later edit of it stands).
  const core::SqlValue* GatewayValue(const std::string& table, const std::vector<core::SqlValue>& key,
                                     const std::string& column) const;

 private:
  struct Row {
    bool inserted = false;
    uint64_t newest = 0;
    uint64_t existence_hlc = 0;  // of the newest insert or delete
    bool alive = false;
    bool inserted_by_gateway = false;
    bool inserted_by_others = false;
    std::map<std::string, std::pair<uint64_t, core::SqlValue>> gateway_values;  // column -> (hlc, value)
  };
  const Row* Find(const std::string& table, const std::vector<core::SqlValue>& key) const;

  std::string gateway_origin_;
  std::map<std::string, Row> rows_;                                        // "table\tkey json"
  std::map<std::string, std::set<std::string>> attachment_rows_;           // homework id -> file ids ever attached
  std::map<std::string, std::map<std::string, std::string>> member_rows_;  // user id -> class id -> row id
  uint64_t max_hlc_ = 0;
};

// A publication, checked and cleaned (texts as the box cleans them).
struct Publication {
  struct Class {
    std::string name;
  };
  struct User {
    std::string login;
    std::string display_name;
    std::string role;                  // "student" or "teacher"
    std::vector<std::string> classes;  // class names
    bool classes_given = false;        // the list is the truth for the ENT's memberships of the user
  };
  struct EndAccount {
    std::string login;
    int64_t ended_at = 0;
  };
  struct Homework {
    std::string ent_id;
    std::string class_name;
    std::string subject;
    std::string title;
    std::string instructions;
    std::optional<int64_t> given_at;  // the gateway's now on first publication when absent
    int64_t due_at = 0;
    bool deleted = false;
    std::vector<std::string> attachments;  // file ids
  };
  struct Resource {
    std::string ent_id;
    std::string kind;  // "file", "link" or "text"
    std::string title;
    std::optional<std::string> file_id, url, body;
    int64_t position = 0;
    bool deleted = false;
  };
  struct Section {
    std::string ent_id;
    std::string title;
    int64_t position = 0;
    bool deleted = false;
    std::vector<Resource> resources;
  };
  struct Course {
    std::string ent_id;
    std::string class_name;
    std::string title;
    bool deleted = false;
    std::vector<Section> sections;
  };
  std::vector<Class> classes;
  std::vector<User> users;
  std::vector<EndAccount> end_accounts;
  std::vector<Homework> homework;
  std::vector<Course> courses;
};

// At most this many items (classes, users, ends, homework, courses, sections,
// resources together) in one publication.
constexpr size_t kMaxPublishItems = 5000;

// Checks and cleans a publication's JSON (docs/hub-api.md). `now` (Unix
// seconds, the gateway's clock) is the default `given_at` and the latest
// accepted `ended_at`. References are checked against `index` (a class named
// by a homework must be published with it or be in the log; an attached file
// must be in the log). InvalidArgument naming the field otherwise.
Result<Publication> ParsePublication(const nlohmann::json& body, const LogIndex& index, int64_t now);

// The row ids, as every party derives them.
std::string EntHomeworkId(const std::string& ent_id);
std::string EntCourseId(const std::string& ent_id);
std::string EntSectionId(const std::string& ent_id);
std::string EntResourceId(const std::string& ent_id);

// A file the ENT uploaded (POST /hub/v1/ent/schools/<id>/files), as its
// `files` row: the row's id is EntFileId(sha256, name, owner's user id), so
// uploading the same bytes under the same name for the same owner again
// names the same row.
struct EntFileRow {
  std::string sha256;  // hex, the blob id
  uint64_t size = 0;
  std::string content_type;
  std::string name;         // as the box would store it (CheckEntFileName)
  std::string owner_login;  // an account the school's log holds
};
std::string EntFileId(const std::string& sha256, const std::string& name, const std::string& owner_id);

// InvalidArgument naming the problem unless `name` is a file name the box
// stores as is (content::CleanFileName): not empty, at most
// content::kMaxFileName bytes of UTF-8, no path separator, control character,
// double quote, leading dot or surrounding space.
Status CheckEntFileName(std::string_view name);

// The row's id and the operation of `origin` inserting it (seq `seq`,
// clocked as PublicationOps clocks), or no operation when the log already
// holds the row. InvalidArgument if the owner is not an account of the log.
struct EntFileOps {
  std::string id;
  std::vector<content::Op> ops;
};
Result<EntFileOps> EntFileOperations(const EntFileRow& file, const LogIndex& index, const std::string& origin,
                                     int64_t seq, int64_t now);

// The operations of `origin` that publish `p`, numbered first_seq, first_seq
// + 1, …, with hlc values from max(now_ms << 16, index.max_hlc() + 1) up, in
// parents-first order. Empty when the publication is empty.
std::vector<content::Op> PublicationOps(const Publication& p, const LogIndex& index, const std::string& origin,
                                        int64_t first_seq, int64_t now);

}  // namespace relais::hub
