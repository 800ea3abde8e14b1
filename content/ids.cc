#include "content/ids.h"

#include <algorithm>

#include "core/crypto.h"

namespace relais::content {
namespace {
std::string LowerAscii(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}
}  // namespace

std::string UserId(std::string_view login) { return core::DerivedUuid("user", {login}); }

std::string ClassId(std::string_view class_name) { return core::DerivedUuid("class", {LowerAscii(class_name)}); }

std::string MemberId(std::string_view class_id, std::string_view user_id) {
  return core::DerivedUuid("class_member", {class_id, user_id});
}

}  // namespace relais::content
