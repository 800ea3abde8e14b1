// tests/hub/box_bundles.h — the bundles an enrolled box uploads to the
// gateway, for the gateway's tests (tests/hub/hub_api_test.cc over HTTP,
// tests/hub/hub_uploads_test.cc at the Hub).
#pragma once

#include <doctest/doctest.h>

#include <cstdint>
#include <functional>
#include <string>

#include "content/journal.h"
#include "core/crypto.h"
#include "sync/enrolment.h"
#include "sync/envelope.h"
#include "sync/identity.h"
#include "sync/op_codec.h"

namespace relais::testing {

// A bundle signed by `signer` (enrolled as `enrolment`) to the gateway,
// scoped to `school`, valid for a day from `now`, holding what `add` writes.
inline std::string SignedBundle(const sync::Identity& signer, const sync::Enrolment& enrolment,
                                const std::string& school, int64_t now,
                                const std::function<void(sync::BundleWriter&)>& add) {
  const sync::Certificate& gw = enrolment.gateway_certificate;
  sync::StringSink sink;
  sync::BundleOptions opt;
  opt.scope = school;
  opt.created_at = now;
  opt.expires_at = now + 86400;
  opt.sender_certificate = sync::EncodeCertificate(enrolment.certificate);
  auto w = sync::BundleWriter::Create(signer, sync::Recipient{gw.box_key, gw.box_epoch}, opt, &sink);
  REQUIRE(w.ok());
  add(**w);
  REQUIRE((*w)->Finish().ok());
  return std::move(sink.data());
}

// Adds `n` journal operations of `origin` (seqs 1..n, hand-ins of ~2 KB
// each, clocked at `now`) to `w`.
inline void AddSubmissions(sync::BundleWriter& w, const std::string& origin, int n, int64_t now) {
  for (int i = 0; i < n; ++i) {
    content::Op op;
    op.origin = origin;
    op.seq = i + 1;
    op.hlc = (static_cast<uint64_t>(now) * 1000 << 16) + static_cast<uint64_t>(i);
    op.table = "submissions";
    op.key = {core::SqlValue(core::NewUuid())};
    op.columns = {{"body", core::SqlValue(core::ToHex(core::RandomBytes(1900)))}};
    REQUIRE(w.Add(1, sync::EncodeOp(op)).ok());
  }
}

}  // namespace relais::testing
