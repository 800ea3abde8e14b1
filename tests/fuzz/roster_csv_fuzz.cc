// tests/fuzz/roster_csv_fuzz.cc — the `relais roster import` parser
// (content/accounts.h ParseRoster) on any bytes.
//
// Oracles: every error's line number is 0 (the whole file) or a line of the
// input; every accepted row obeys the rules (a valid login, student or
// teacher, 1..120-byte name, 1..60-byte class) and round-trips: written back
// as CSV (every field quoted, ';'-separated), parsed again, it gives the same
// rows with no error.
#include <cstdint>
#include <string>
#include <vector>

#include "content/accounts.h"
#include "fuzz_support.h"

using namespace relais;
using relais::fuzzing::Check;

namespace {

std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  return out + "\"";
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzzing::WriteSeedsIfAsked({
      // As exported by a spreadsheet (LibreOffice, Excel with ';' and a BOM), and typed by hand.
      "login,display name,role,class\nalice.martin,Alice Martin,student,CM2 A\n"
      "bob.durand,Bob Durand,student,CM2 A\nmme.petit,Claire Petit,teacher,CM2 A\n",
      "\xEF\xBB\xBF"
      "login;nom;r\xC3\xB4le;classe\r\nl\xC3\xA9"
      "a.roux;L\xC3\xA9"
      "a Roux;student;6e B\r\n"
      "hugo.blanc;\"Blanc, Hugo\";Student;6e B\r\n",
      "# rentr\xC3\xA9"
      "e 2026\n\nzoe;\"Zo\xC3\xA9 \"\"Zozo\"\" Moreau\";student;CE1\nzoe;Zo\xC3\xA9;student;CE1\n",
      "admin,Admin,admin,CM1\nBad Login,x,student,CM1\nok,,student,CM1\nok2,Name,student\n",
      "a,\"unterminated,student,CM1\n",
      "\xFF\xFE"
      "b,c,d,e\n",
      "",
  });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view csv(reinterpret_cast<const char*>(data), size);
  int input_lines = 0;
  for (size_t at = 0; at < csv.size(); ++input_lines) {
    size_t nl = csv.find('\n', at);
    at = nl == std::string_view::npos ? csv.size() : nl + 1;
  }
  std::vector<content::RosterError> errors;
  std::vector<content::RosterLine> lines = content::ParseRoster(csv, &errors);
  for (const content::RosterError& e : errors)
    Check(e.line >= 0 && e.line <= input_lines, "an error's line number is a line of the input (or 0)");
  Check(!lines.empty() || !errors.empty(), "a file without rows says so");
  if (lines.empty()) return 0;

  std::string again;
  for (const content::RosterLine& l : lines) {
    Check(l.line >= 1 && l.line <= input_lines, "a row's line number is a line of the input");
    Check(content::ValidateLogin(l.login).ok(), "an accepted login is valid");
    Check(l.role == "student" || l.role == "teacher", "an accepted role is student or teacher");
    Check(!l.display_name.empty() && l.display_name.size() <= 120, "a display name has 1 to 120 bytes");
    Check(!l.class_name.empty() && l.class_name.size() <= 60, "a class name has 1 to 60 bytes");
    again += Quote(l.login) + ";" + Quote(l.display_name) + ";" + Quote(l.role) + ";" + Quote(l.class_name) + "\n";
  }
  std::vector<content::RosterError> errors2;
  std::vector<content::RosterLine> lines2 = content::ParseRoster(again, &errors2);
  Check(errors2.empty(), "accepted rows written back parse without error");
  Check(lines2.size() == lines.size(), "accepted rows written back parse to as many rows");
  for (size_t i = 0; i < lines.size() && i < lines2.size(); ++i)
    Check(lines2[i].login == lines[i].login && lines2[i].display_name == lines[i].display_name &&
              lines2[i].role == lines[i].role && lines2[i].class_name == lines[i].class_name,
          "accepted rows written back parse to the same rows");
  return 0;
}
