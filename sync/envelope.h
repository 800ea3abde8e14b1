// sync/envelope.h — bundle envelope v1: records, compressed, encrypted for
// one recipient, signed by the sender.
//
// A bundle carries an ordered sequence of opaque records (a kind byte and up
// to kMaxRecordBytes of bytes each; sync's journal decides what they mean).
// The writer streams: records are zstd-compressed, cut into 64 KiB
// secretstream messages under a fresh per-bundle key sealed to the
// recipient's X25519 key, and the trailer signs the header's hash and the
// ciphertext's hash with the sender's Ed25519 key. Memory stays flat
// whatever the bundle size. Every byte: docs/sync-format.md.
//
// The reader checks, before it yields any record: the format and version,
// the school scope, that the bundle is addressed to one of our encryption
// keys, that the signer is a pinned gateway key or holds a valid, unrevoked
// certificate for this school, the expiry, the signature over the header and
// the whole ciphertext, and the sealed key. Records then stream out; the end
// is checked too (final message, record count, sizes). A caller applies the
// records inside one transaction and commits only when Next() returned false
// (the clean end): a bundle that fails leaves nothing behind.
//
// Errors: Corruption for damaged bytes (truncated, altered, reordered);
// InvalidArgument for an unknown format version; PermissionDenied for a
// bundle that is intact but not for us (another recipient or school, an
// unknown or revoked signer, an expired certificate or bundle).
// Writers and readers are single-threaded objects.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/compression.h"
#include "core/crypto.h"
#include "core/status.h"
#include "sync/byte_io.h"
#include "sync/certificate.h"
#include "sync/format.h"
#include "sync/identity.h"

namespace relais::sync {

struct BundleHeader {
  std::string scope;  // the school
  BundleId bundle_id{};
  KeyId sender_key_id{};     // the signer's Ed25519 key id
  KeyId recipient_key_id{};  // the recipient's X25519 key id
  uint32_t recipient_epoch = 0;
  uint64_t created_hlc = 0;        // the sender's hybrid logical clock when it wrote the bundle
  int64_t created_at = 0;          // the sender's wall clock (informative: it may be wrong)
  int64_t expires_at = 0;          // readers refuse the bundle from then on
  std::string sender_certificate;  // encoded; empty when the signer is a pinned gateway key
};

struct Recipient {
  core::BoxPublicKey box_key{};
  uint32_t epoch = 0;
};

struct BundleOptions {
  std::string scope;
  uint64_t created_hlc = 0;
  int64_t created_at = 0;
  int64_t expires_at = 0;
  // The sender's encoded certificate; leave empty when the sender is the gateway.
  std::string sender_certificate;
  int compression_level = 3;
};

struct BundleSummary {
  BundleId bundle_id{};
  uint64_t record_count = 0;
  uint64_t records_bytes = 0;     // records as encoded, before compression
  uint64_t compressed_bytes = 0;  // the zstd frame
  uint64_t bundle_bytes = 0;      // everything written
};

class BundleWriter {
 public:
  // Writes the header to `sink`. `sender` and `sink` must outlive the writer.
  // InvalidArgument on a bad scope or an oversized certificate.
  static Result<std::unique_ptr<BundleWriter>> Create(const Identity& sender, const Recipient& recipient,
                                                      const BundleOptions& options, ByteSink* sink);
  ~BundleWriter();
  // Appends a record. InvalidArgument if it is over kMaxRecordBytes.
  Status Add(uint8_t kind, std::string_view record);
  // Flushes the payload and writes the trailer; the writer is spent afterwards.
  Result<BundleSummary> Finish();
  const BundleId& bundle_id() const { return header_.bundle_id; }

 private:
  BundleWriter() = default;
  Status Flush(bool final);

  const Identity* sender_ = nullptr;
  ByteSink* sink_ = nullptr;
  BundleHeader header_;
  std::string header_hash_;
  std::unique_ptr<core::SecretStreamPush> stream_;
  std::unique_ptr<core::ZstdCompressor> compressor_;
  std::string compressed_;  // compressed bytes not yet encrypted
  std::string cipher_;      // scratch
  core::Sha256Stream cipher_hash_;
  uint64_t cipher_bytes_ = 0;
  BundleSummary summary_;
  bool finished_ = false;
};

struct Record {
  uint8_t kind = 0;
  std::string bytes;
};

class BundleReader {
 public:
  // Checks everything but the payload's inside (see the file comment).
  // `source`, `me` and `trust` must outlive the reader. `now` is the reader's
  // time for expiry checks.
  static Result<std::unique_ptr<BundleReader>> Open(const ByteSource& source, const Identity& me,
                                                    const TrustStore& trust, std::string_view expected_scope,
                                                    int64_t now);
  ~BundleReader();
  const BundleHeader& header() const { return header_; }
  uint64_t record_count() const { return record_count_; }
  // The next record into *out: true, or false at the clean, verified end.
  Result<bool> Next(Record* out);

 private:
  BundleReader() = default;
  // Makes at least `n` decompressed bytes available; false at the end of the payload.
  Result<bool> Fill(size_t n);
  Status CheckEnd();

  const ByteSource* source_ = nullptr;
  BundleHeader header_;
  std::string header_hash_;
  std::unique_ptr<core::SecretStreamPull> stream_;
  std::unique_ptr<core::ZstdDecompressor> decompressor_;
  uint64_t cipher_at_ = 0;   // next message's offset
  uint64_t cipher_end_ = 0;  // where the trailer starts
  bool final_seen_ = false;
  std::string message_;       // the current decrypted message
  std::string_view pending_;  // its bytes not yet decompressed
  bool zstd_may_have_more_ = false;
  std::string plain_;  // decompressed bytes not yet returned
  size_t plain_at_ = 0;
  uint64_t record_count_ = 0;
  uint64_t records_bytes_ = 0;
  uint64_t records_seen_ = 0;
  uint64_t records_bytes_seen_ = 0;
  bool failed_ = false;
  bool done_ = false;
};

}  // namespace relais::sync
