#include "sync/hub.h"

#include "core/crypto.h"

namespace relais::sync {

namespace {
constexpr std::string_view kCrockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
constexpr int kCodeChars = 15;
}  // namespace

Result<std::unique_ptr<HubStore>> OpenHubStore(const core::Config& config) {
  if (!config.hub_postgres.empty()) return OpenPostgresHubStore(config.hub_postgres, config.hub_connections);
  return OpenSqliteHubStore(config.data_dir);
}

std::string NewEnrolmentCode() {
  std::string random = core::RandomBytes(kCodeChars);
  std::string code;
  for (int i = 0; i < kCodeChars; ++i) {
    if (i > 0 && i % 5 == 0) code.push_back('-');
    code.push_back(kCrockford[static_cast<unsigned char>(random[static_cast<size_t>(i)]) % 32]);
  }
  return code;
}

std::string NormaliseEnrolmentCode(std::string_view typed) {
  std::string out;
  for (char c : typed) {
    if (c == '-' || c == ' ') continue;
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (c == 'O') c = '0';
    if (c == 'I' || c == 'L') c = '1';
    if (kCrockford.find(c) == std::string_view::npos) return "";
    out.push_back(c);
  }
  return out;
}

std::string EnrolmentCodeHash(std::string_view typed) { return core::Sha256(NormaliseEnrolmentCode(typed)); }

Result<Hub::IssuedCode> Hub::IssueEnrolmentCode(std::string_view school_id) {
  IssuedCode issued{NewEnrolmentCode(), clock_.Now() + config_.hub_enrol_code_ttl_s};
  RELAIS_RETURN_IF_ERROR(
      store_.AddEnrolmentCode(EnrolmentCodeHash(issued.code), school_id, issued.expires_at, clock_.Now()));
  return issued;
}

}  // namespace relais::sync
