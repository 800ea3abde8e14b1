// tests/fuzz/sync_readers_fuzz.cc — a libFuzzer target for every sync reader.
//
//   cmake -S . -B build-fuzz -DCMAKE_CXX_COMPILER=clang++ -DRELAIS_FUZZ=ON
//   cmake --build build-fuzz --target relais_sync_fuzz && build-fuzz/relais_sync_fuzz -max_total_time=60
//
// The first input byte picks the reader. Raw decoders (certificate,
// revocation list, manifest, enrolment request and response) take the rest as
// is. For bundles and sealed chunks, random bytes would never get past the
// first checks, so the rest of the input is a list of edits — (offset u16,
// xor u8) triples, and a final length — applied to a valid bundle or chunk
// built at start-up: the reader must refuse every change without crashing,
// and accept the unchanged one.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/crypto.h"
#include "fuzz_support.h"
#include "sync/chunks.h"
#include "sync/enrolment.h"
#include "sync/envelope.h"

using namespace relais;
using namespace relais::sync;

namespace {

struct World {
  std::unique_ptr<Identity> gateway = Identity::Generate();
  std::unique_ptr<Identity> box = Identity::Generate();
  TrustStore trust;
  std::string bundle;
  Manifest manifest;
  std::string chunk;

  World() {
    if (!core::InitCrypto().ok()) std::abort();
    trust.Pin(gateway->sign_public_key());
    auto cert = IssueCertificate(*gateway, Role::kBox, "S", 1, PublicKeysOf(*box), 0, 4000000000);
    StringSink sink;
    BundleOptions opt;
    opt.scope = "S";
    opt.expires_at = 4000000000;
    opt.sender_certificate = EncodeCertificate(*cert);
    auto w = BundleWriter::Create(*box, {gateway->current_box_key().keys.public_key, 1}, opt, &sink);
    for (int i = 0; i < 50; ++i) (void)(*w)->Add(1, std::string(2000, static_cast<char>('a' + i % 26)));
    (void)(*w)->Add(2, core::RandomBytes(70000));
    (void)(*w)->Finish();
    bundle = sink.data();
    manifest.blob_id = core::Sha256("plain");
    manifest.size = 5;
    manifest.key = core::NewSymmetricKey();
    ChunkRef ref;
    core::CopyTo(core::Sha256("plain"), &ref.hash);
    ref.size = 5;
    manifest.chunks.push_back(ref);
    chunk = SealChunk(manifest, 0, "plain");
  }
};

}  // namespace

World& TheWorld() {
  static World world;
  return world;
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (!std::getenv("RELAIS_FUZZ_SEEDS")) return 0;
  World& w = TheWorld();
  auto cert = IssueCertificate(*w.gateway, Role::kBox, "S", 1, PublicKeysOf(*w.box), 0, 4000000000);
  RevocationList list;
  list.version = 2;
  list.entries.push_back({KeyIdOf(w.box->sign_public_key()), 100});
  SignRevocationList(*w.gateway, &list);
  auto code = NewEnrolmentCode("S", 0, 3600);
  fuzzing::WriteSeedsIfAsked({'\0' + EncodeCertificate(*cert), '\1' + EncodeRevocationList(list),
                              '\2' + EncodeManifest(w.manifest), '\3' + *MakeEnrolmentRequest(*w.box, code->code, 0),
                              std::string("\4"), std::string("\5"), std::string("\5\x10\0\x01", 4), std::string("\6"),
                              std::string("\6\x08\0\x80", 4)});
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  World& world = TheWorld();
  if (size == 0) return 0;
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 7) {
    case 0:
      (void)DecodeCertificate(rest);
      break;
    case 1:
      (void)DecodeRevocationList(rest);
      break;
    case 2:
      (void)DecodeManifest(rest);
      break;
    case 3:
      (void)EnrolmentRequestCodeId(rest);
      break;
    case 4:
      (void)AcceptEnrolment(*world.box, "ABCD-EFGH-JKLM-NPQR", rest);
      break;
    case 5: {
      std::string bundle = fuzzing::Edit(world.bundle, data + 1, size - 1);
      StringSource source(bundle);
      auto reader = BundleReader::Open(source, *world.gateway, world.trust, "S", 0);
      bool ok = reader.ok();
      if (ok) {
        Record r;
        for (;;) {
          auto more = (*reader)->Next(&r);
          if (!more.ok()) {
            ok = false;
            break;
          }
          if (!*more) break;
        }
      }
      if (ok != (bundle == world.bundle)) std::abort();  // a change got through, or the original failed
      break;
    }
    case 6: {
      std::string chunk = fuzzing::Edit(world.chunk, data + 1, size - 1);
      if (OpenChunk(world.manifest, 0, chunk).ok() != (chunk == world.chunk)) std::abort();
      break;
    }
  }
  return 0;
}
