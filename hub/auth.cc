#include "hub/auth.h"

#include <algorithm>

namespace relais::hub {

Result<HubBox> VerifyRequest(HubStore& store, std::string_view method, std::string_view target,
                             std::string_view box_header, std::string_view time_header,
                             std::string_view signature_header, std::string_view upload_offset, int64_t now) {
  RELAIS_ASSIGN_OR_RETURN(sync::SignedRequest signed_request,
                          sync::ReadRequestSignature(box_header, time_header, signature_header, now));
  auto box = store.GetBox(signed_request.box_id);
  if (!box.ok() && box.status().code() == StatusCode::kNotFound) return Status::Unauthenticated("unknown box");
  if (!box.ok()) return box.status();
  core::SignPublicKey key{};
  if (box->sign_public_key.size() != key.size()) return Status::Corruption("the box's stored key is damaged");
  std::copy(box->sign_public_key.begin(), box->sign_public_key.end(), key.begin());
  if (!sync::VerifyRequestSignature(key, signed_request, method, target, upload_offset))
    return Status::Unauthenticated("bad request signature");
  if (box->revoked_at) return Status::PermissionDenied("this box is revoked");
  return box;
}

}  // namespace relais::hub
