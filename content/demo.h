// content/demo.h — a demo school for trying Relais (`relais serve --demo`).
//
// Seeds once (remembered in the settings table): an admin, two teachers, two
// classes with students, homework with a PDF and a short video, and some
// hand-ins, one of them returned with a grade. The passwords are printed by
// `relais serve --demo`; a demo box must never be used for a real school.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "content/school.h"

namespace relais::content {

struct DemoAccount {
  std::string login;
  std::string password;
  std::string role;
  std::string description;
};

// The accounts SeedDemo creates (also when the school was seeded before).
const std::vector<DemoAccount>& DemoAccounts();

// Seeds the demo school unless it was seeded before. Returns true if it seeded now.
Result<bool> SeedDemo(School& school);

// A small valid one-page PDF showing `title` and `lines` (ASCII).
std::string MakeSimplePdf(std::string_view title, const std::vector<std::string>& lines);
// The demo's short MP4 video (compiled in from content/demo/demo-video.mp4).
std::string_view DemoVideoMp4();

}  // namespace relais::content
