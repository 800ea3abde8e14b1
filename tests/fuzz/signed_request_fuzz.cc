// tests/fuzz/signed_request_fuzz.cc — a box's signed request headers
// (sync/request_signing.h ReadRequestSignature, VerifyRequestSignature) and
// its signed USB statement (sync/statement.h VerifyStatement).
//
// The first input byte picks the case:
//   0  the rest is "Relais-Box \n Relais-Time \n Relais-Signature \n method \n
//      target \n Upload-Offset", read and checked against the box's key;
//   1  edits (fuzz_support.h Edit) to those lines of a genuinely signed request;
//   2  edits to the signature (128 hex digits) followed by the JSON of a
//      genuine statement;
//   3  the rest is a statement's JSON, signed by the box here so the reader
//      gets past the signature to the JSON.
// Oracles: an accepted time is within kRequestSkewSeconds; a request verifies
// only if it states the signed method, target, time and offset with the signed
// signature; an altered statement never verifies and the genuine one does; a
// verified statement is for our school, has integer seqs, and at most
// kMaxFileNews chunk ids in each file list.
#include <cstdint>
#include <string>

#include "core/crypto.h"
#include "fuzz_support.h"
#include "sync/chunks.h"
#include "sync/request_signing.h"
#include "sync/statement.h"

using namespace relais;
using namespace relais::sync;
using relais::fuzzing::Check;

namespace {

constexpr int64_t kNow = 1764000000;
const std::string kSchool = "0330001A";

struct World {
  std::unique_ptr<Identity> box;
  std::string key;      // raw signing public key
  std::string request;  // the six lines of a genuine request
  std::string message;  // what it signs
  Statement statement;
  World() {
    if (!core::InitCrypto().ok()) std::abort();
    box = Identity::Generate();
    key.assign(reinterpret_cast<const char*>(box->sign_public_key().data()), box->sign_public_key().size());
    auto h = SignRequest(*box, "PATCH", "/hub/v1/uploads/7f3a?school=0330001A", kNow - 5, "1048576");
    request = h["Relais-Box"] + "\n" + h["Relais-Time"] + "\n" + h["Relais-Signature"] +
              "\nPATCH\n/hub/v1/uploads/7f3a?school=0330001A\n1048576";
    message = RequestMessage("PATCH", "/hub/v1/uploads/7f3a?school=0330001A", kNow - 5, "1048576");
    FileNews news;
    news.have.push_back(std::string(64, 'a'));
    news.want.push_back(std::string(64, 'b'));
    statement = SignStatement(
        *box, KeyIdHex(box->sign_key_id()), kSchool, kNow,
        {{"6f1c2b7e-3d4a-4b8e-9f10-2a3b4c5d6e7f", 42}, {"0b7d5c3e-8a41-4e6f-b2d9-7c1e5f3a9d20", 7}}, news);
  }
};

World& TheWorld() {
  static World world;
  return world;
}

void CheckRequest(const World& w, std::string_view lines) {
  auto f = fuzzing::Fields(lines, 6);
  auto read = ReadRequestSignature(f[0], f[1], f[2], kNow);
  if (!read.ok()) return;
  Check(read->time >= kNow - kRequestSkewSeconds && read->time <= kNow + kRequestSkewSeconds,
        "an accepted Relais-Time is within the skew");
  Check(read->box_id == f[0], "the box id is the header's");
  core::SignPublicKey key;
  std::copy(w.key.begin(), w.key.end(), key.begin());
  if (VerifyRequestSignature(key, *read, f[3], f[4], f[5])) {
    Check(RequestMessage(f[3], f[4], read->time, f[5]) == w.message, "only the signed request verifies");
    Check(f[2] == fuzzing::Fields(w.request, 6)[2], "only the signed signature verifies");
  }
}

void CheckStatement(const World& w, std::string_view json, std::string_view signature_hex) {
  FileNews files;
  auto vector = VerifyStatement(json, signature_hex, w.key, kSchool, &files);
  if (!vector.ok()) return;
  Check(files.have.size() <= kMaxFileNews && files.want.size() <= kMaxFileNews, "file lists are bounded");
  for (const auto* list : {&files.have, &files.want})
    for (const std::string& id : *list) Check(IsChunkId(id), "file lists hold chunk ids");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (!std::getenv("RELAIS_FUZZ_SEEDS")) return 0;
  const World& w = TheWorld();
  fuzzing::WriteSeedsIfAsked({
      '\0' + w.request,
      std::string("\1"),
      std::string("\1\x50\0\x01", 4),
      std::string("\1\x90\0\x20", 4),
      std::string("\2"),
      std::string("\2\x90\0\x01", 4),
      '\3' + w.statement.json,
      "\3{\"school\":\"0330001A\",\"vector\":{\"a\":1},\"files\":{\"have\":[\"" + std::string(64, 'c') +
          "\"],\"want\":7}}",
  });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const World& w = TheWorld();
  if (size == 0) return 0;
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 4) {
    case 0:
      CheckRequest(w, rest);
      break;
    case 1:
      CheckRequest(w, fuzzing::Edit(w.request, data + 1, size - 1));
      break;
    case 2: {
      std::string signed_text = w.statement.signature_hex + w.statement.json;
      std::string bytes = fuzzing::Edit(signed_text, data + 1, size - 1);
      std::string_view sig = std::string_view(bytes).substr(0, std::min<size_t>(128, bytes.size()));
      std::string_view json = std::string_view(bytes).substr(sig.size());
      bool verifies = VerifyStatement(json, sig, w.key, kSchool).ok();
      Check(verifies == (bytes == signed_text), "a statement verifies exactly when unchanged");
      break;
    }
    case 3: {
      core::Signature sig = w.box->Sign("relais-box-statement-v1\n" + std::string(rest));
      CheckStatement(w, rest, core::ToHex(std::string_view(reinterpret_cast<const char*>(sig.data()), sig.size())));
      break;
    }
  }
  return 0;
}
