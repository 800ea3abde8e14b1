#include "sync/request_signing.h"

#include <algorithm>
#include <cstdlib>

namespace relais::sync {

std::string RequestMessage(std::string_view method, std::string_view target, int64_t time,
                           std::string_view upload_offset) {
  std::string m = "relais-hub-request-v1\n";
  m.append(method).append("\n").append(target).append("\n").append(std::to_string(time)).append("\n");
  m.append(upload_offset);
  return m;
}

std::map<std::string, std::string> SignRequest(const Identity& box, std::string_view method, std::string_view target,
                                               int64_t time, std::string_view upload_offset) {
  core::Signature sig = box.Sign(RequestMessage(method, target, time, upload_offset));
  return {{"Relais-Box", KeyIdHex(box.sign_key_id())},
          {"Relais-Time", std::to_string(time)},
          {"Relais-Signature", core::ToHex(std::string_view(reinterpret_cast<const char*>(sig.data()), sig.size()))}};
}

bool DecodeHex(std::string_view hex, std::string* out) {
  if (hex.size() % 2) return false;
  out->clear();
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi * 16 + lo));
  }
  return true;
}

Result<SignedRequest> ReadRequestSignature(std::string_view box_header, std::string_view time_header,
                                           std::string_view signature_header, int64_t now) {
  if (box_header.empty() || time_header.empty() || signature_header.empty())
    return Status::Unauthenticated("sign the request (Relais-Box, Relais-Time, Relais-Signature)");
  std::string time_text(time_header);
  char* end = nullptr;
  long long time = std::strtoll(time_text.c_str(), &end, 10);
  if (*end != '\0' || time_text.empty()) return Status::Unauthenticated("Relais-Time must be Unix seconds");
  if (time < now - kRequestSkewSeconds || time > now + kRequestSkewSeconds)
    return Status::Unauthenticated("Relais-Time is too far from the gateway's time " + std::to_string(now));
  SignedRequest out;
  std::string sig_bytes;
  if (!DecodeHex(signature_header, &sig_bytes) || sig_bytes.size() != out.signature.size())
    return Status::Unauthenticated("Relais-Signature must be 128 hex characters");
  std::copy(sig_bytes.begin(), sig_bytes.end(), out.signature.begin());
  out.box_id = std::string(box_header);
  out.time = time;
  return out;
}

bool VerifyRequestSignature(const core::SignPublicKey& key, const SignedRequest& signed_request,
                            std::string_view method, std::string_view target, std::string_view upload_offset) {
  return core::VerifySignature(key, RequestMessage(method, target, signed_request.time, upload_offset),
                               signed_request.signature);
}

std::string BoxKeyMessage(std::string_view box_id, std::string_view key_hex, int64_t epoch) {
  return "relais-box-key-v1\n" + std::string(box_id) + "\n" + std::string(key_hex) + "\n" + std::to_string(epoch);
}

}  // namespace relais::sync
