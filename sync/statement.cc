#include "sync/statement.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "sync/chunks.h"
#include "sync/request_signing.h"

namespace relais::sync {

using nlohmann::json;

namespace {
constexpr const char* kStatementContext = "relais-box-statement-v1\n";
}  // namespace

Statement SignStatement(const Identity& box, std::string_view box_id, std::string_view school_id, int64_t now,
                        const content::VersionVector& held, const FileNews& files) {
  json vector = json::object();
  for (const auto& [origin, seq] : held) vector[origin] = seq;
  Statement s;
  s.json = json{{"box", box_id},
                {"school", school_id},
                {"time", now},
                {"vector", vector},
                {"files", {{"have", files.have}, {"want", files.want}}}}
               .dump();
  core::Signature sig = box.Sign(kStatementContext + s.json);
  s.signature_hex = core::ToHex(std::string_view(reinterpret_cast<const char*>(sig.data()), sig.size()));
  return s;
}

Result<content::VersionVector> VerifyStatement(std::string_view text, std::string_view signature_hex,
                                               std::string_view sign_public_key, std::string_view school_id,
                                               FileNews* files) {
  std::string signature_bytes;
  core::SignPublicKey key{};
  core::Signature signature{};
  if (!DecodeHex(signature_hex, &signature_bytes) || signature_bytes.size() != signature.size() ||
      sign_public_key.size() != key.size())
    return Status::Corruption("the box's statement has a malformed signature");
  std::copy(signature_bytes.begin(), signature_bytes.end(), signature.begin());
  std::copy(sign_public_key.begin(), sign_public_key.end(), key.begin());
  if (!core::VerifySignature(key, kStatementContext + std::string(text), signature))
    return Status::PermissionDenied("the box's statement is not signed by that box");
  json parsed = json::parse(text, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object() || !parsed.contains("vector") || !parsed["vector"].is_object())
    return Status::Corruption("the box's statement is malformed");
  // Typed access only: a "school" that is not a string must be refused, not
  // thrown as nlohmann's type_error (tests/sync/statement_test.cc).
  auto school = parsed.find("school");
  if (school == parsed.end() || !school->is_string() || school->get_ref<const std::string&>() != school_id)
    return Status::PermissionDenied("the box's statement is for another school");
  content::VersionVector vector;
  for (const auto& [origin, seq] : parsed["vector"].items()) {
    if (!seq.is_number_integer()) return Status::Corruption("the box's statement is malformed");
    vector[origin] = seq.get<int64_t>();
  }
  if (files && parsed.contains("files") && parsed["files"].is_object()) {
    for (auto [key, list] : {std::pair{"have", &files->have}, std::pair{"want", &files->want}}) {
      const json& ids = parsed["files"].value(key, json::array());
      if (!ids.is_array()) return Status::Corruption("the box's statement is malformed");
      for (const json& id : ids)
        if (id.is_string() && IsChunkId(id.get<std::string>()) && list->size() < kMaxFileNews)
          list->push_back(id.get<std::string>());
    }
  }
  return vector;
}

}  // namespace relais::sync
