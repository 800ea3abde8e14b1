#include "sync/envelope.h"

#include <algorithm>

namespace relais::sync {
namespace {

// The signed message: a context string, the header's hash, the trailer up to
// the signature.
constexpr std::string_view kSignContext{"relais bundle v1", 16};
constexpr size_t kTrailerSignedBytes = kTrailerBytes - core::kSignatureBytes;
constexpr size_t kHashChunkBytes = 1 << 20;

std::string EncodeHeader(const BundleHeader& h, std::string_view sealed_key, std::string_view stream_header) {
  std::string out;
  ByteWriter w(&out);
  w.Bytes(kBundleMagic);
  w.U16(kBundleVersion);
  size_t size_at = out.size();
  w.U16(0);  // header size, patched below
  w.U16(0);  // flags: none defined in v1
  w.U8(static_cast<uint8_t>(h.scope.size()));
  w.Bytes(h.scope);
  w.Bytes(h.bundle_id);
  w.Bytes(h.sender_key_id);
  w.Bytes(h.recipient_key_id);
  w.U32(h.recipient_epoch);
  w.U64(h.created_hlc);
  w.I64(h.created_at);
  w.I64(h.expires_at);
  w.U16(static_cast<uint16_t>(h.sender_certificate.size()));
  w.Bytes(h.sender_certificate);
  w.Bytes(sealed_key);
  w.Bytes(stream_header);
  out[size_at] = static_cast<char>(out.size() & 0xff);
  out[size_at + 1] = static_cast<char>(out.size() >> 8);
  return out;
}

std::string SignedMessage(std::string_view header_hash, std::string_view trailer_prefix) {
  std::string m(kSignContext);
  m.append(header_hash);
  m.append(trailer_prefix);
  return m;
}

}  // namespace

// ---------------------------------------------------------------------------
// Writer

Result<std::unique_ptr<BundleWriter>> BundleWriter::Create(const Identity& sender, const Recipient& recipient,
                                                           const BundleOptions& options, ByteSink* sink) {
  if (options.scope.empty() || options.scope.size() > kMaxScopeBytes)
    return Status::InvalidArgument("a bundle's scope must be 1 to 64 bytes");
  if (options.sender_certificate.size() > 4096) return Status::InvalidArgument("sender certificate too large");
  std::unique_ptr<BundleWriter> w(new BundleWriter);
  w->sender_ = &sender;
  w->sink_ = sink;
  BundleHeader& h = w->header_;
  h.scope = options.scope;
  core::CopyTo(core::RandomBytes(kBundleIdBytes), &h.bundle_id);
  h.sender_key_id = sender.sign_key_id();
  h.recipient_key_id = KeyIdOf(recipient.box_key);
  h.recipient_epoch = recipient.epoch;
  h.created_hlc = options.created_hlc;
  h.created_at = options.created_at;
  h.expires_at = options.expires_at;
  h.sender_certificate = options.sender_certificate;

  core::SymmetricKey key = core::NewSymmetricKey();
  std::string sealed = core::SealTo(recipient.box_key, key.view());
  w->stream_ = std::make_unique<core::SecretStreamPush>(key);
  RELAIS_ASSIGN_OR_RETURN(w->compressor_, core::ZstdCompressor::Create(options.compression_level));
  std::string header = EncodeHeader(h, sealed, w->stream_->header());
  w->header_hash_ = core::Sha256(header);
  w->summary_.bundle_id = h.bundle_id;
  w->summary_.bundle_bytes = header.size();
  RELAIS_RETURN_IF_ERROR(sink->Append(header));
  return w;
}

BundleWriter::~BundleWriter() = default;

Status BundleWriter::Add(uint8_t kind, std::string_view record) {
  if (finished_) return Status::Internal("bundle writer already finished");
  if (record.size() > kMaxRecordBytes) return Status::InvalidArgument("record over the 64 MiB limit");
  std::string head;
  ByteWriter w(&head);
  w.U8(kind);
  w.U32(static_cast<uint32_t>(record.size()));
  size_t before = compressed_.size();
  RELAIS_RETURN_IF_ERROR(compressor_->Write(head, &compressed_));
  RELAIS_RETURN_IF_ERROR(compressor_->Write(record, &compressed_));
  summary_.compressed_bytes += compressed_.size() - before;
  summary_.record_count++;
  summary_.records_bytes += kRecordHeaderBytes + record.size();
  return Flush(false);
}

// Encrypts whole messages from compressed_; with `final`, everything left as
// the last message (0..kStreamMessageBytes bytes, TAG_FINAL).
Status BundleWriter::Flush(bool final) {
  size_t at = 0;
  // Up to one full message stays back until Finish: the final message is
  // whatever remains then (0..kStreamMessageBytes bytes).
  while (compressed_.size() - at > kStreamMessageBytes) {
    cipher_.clear();
    stream_->Push(std::string_view(compressed_).substr(at, kStreamMessageBytes), header_hash_, false, &cipher_);
    cipher_hash_.Update(cipher_);
    cipher_bytes_ += cipher_.size();
    summary_.bundle_bytes += cipher_.size();
    RELAIS_RETURN_IF_ERROR(sink_->Append(cipher_));
    at += kStreamMessageBytes;
  }
  if (final) {
    cipher_.clear();
    stream_->Push(std::string_view(compressed_).substr(at), header_hash_, true, &cipher_);
    cipher_hash_.Update(cipher_);
    cipher_bytes_ += cipher_.size();
    summary_.bundle_bytes += cipher_.size();
    RELAIS_RETURN_IF_ERROR(sink_->Append(cipher_));
    at = compressed_.size();
  }
  compressed_.erase(0, at);
  return Status::Ok();
}

Result<BundleSummary> BundleWriter::Finish() {
  if (finished_) return Status::Internal("bundle writer already finished");
  finished_ = true;
  size_t before = compressed_.size();
  RELAIS_RETURN_IF_ERROR(compressor_->Finish(&compressed_));
  summary_.compressed_bytes += compressed_.size() - before;
  RELAIS_RETURN_IF_ERROR(Flush(true));
  std::string trailer;
  ByteWriter w(&trailer);
  w.Bytes(kTrailerMagic);
  w.U64(summary_.record_count);
  w.U64(summary_.records_bytes);
  w.U64(cipher_bytes_);
  w.Bytes(cipher_hash_.Finish());
  core::Signature sig = sender_->Sign(SignedMessage(header_hash_, trailer));
  w.Bytes(sig);
  summary_.bundle_bytes += trailer.size();
  RELAIS_RETURN_IF_ERROR(sink_->Append(trailer));
  return summary_;
}

// ---------------------------------------------------------------------------
// Reader

Result<std::unique_ptr<BundleReader>> BundleReader::Open(const ByteSource& source, const Identity& me,
                                                         const TrustStore& trust, std::string_view expected_scope,
                                                         int64_t now) {
  std::unique_ptr<BundleReader> r(new BundleReader);
  r->source_ = &source;
  const uint64_t size = source.size();
  if (size < kBundlePrefixBytes) return Status::Corruption("bundle truncated (no header)");
  std::string prefix;
  RELAIS_RETURN_IF_ERROR(source.ReadAt(0, kBundlePrefixBytes, &prefix));
  ByteReader pr(prefix);
  if (pr.Bytes(kBundleMagic.size()) != kBundleMagic) return Status::Corruption("not a Relais bundle");
  uint16_t version = pr.U16();
  if (version != kBundleVersion)
    return Status::InvalidArgument("bundle format version " + std::to_string(version) +
                                   " is not supported (this reader knows version " + std::to_string(kBundleVersion) +
                                   ")");
  uint16_t header_size = pr.U16();
  uint16_t flags = pr.U16();
  if (flags != 0) return Status::Corruption("bundle header has unknown flags");
  if (header_size < kBundlePrefixBytes || uint64_t{header_size} + kTrailerBytes > size)
    return Status::Corruption("bundle truncated (header or trailer missing)");

  std::string header;
  RELAIS_RETURN_IF_ERROR(source.ReadAt(0, header_size, &header));
  ByteReader hr(header);
  hr.Bytes(kBundlePrefixBytes);
  BundleHeader& h = r->header_;
  uint8_t scope_len = hr.U8();
  h.scope = std::string(hr.Bytes(scope_len));
  h.bundle_id = hr.Array<kBundleIdBytes>();
  h.sender_key_id = hr.Array<kKeyIdBytes>();
  h.recipient_key_id = hr.Array<kKeyIdBytes>();
  h.recipient_epoch = hr.U32();
  h.created_hlc = hr.U64();
  h.created_at = hr.I64();
  h.expires_at = hr.I64();
  uint16_t cert_len = hr.U16();
  h.sender_certificate = std::string(hr.Bytes(cert_len));
  std::string_view sealed_key = hr.Bytes(kSealedKeyBytes);
  std::string_view stream_header = hr.Bytes(core::kStreamHeaderBytes);
  if (!hr.done()) return Status::Corruption("bundle header is malformed");
  if (scope_len == 0 || scope_len > kMaxScopeBytes) return Status::Corruption("bundle scope length");

  // Addressed to us?
  if (h.scope != expected_scope) return Status::PermissionDenied("bundle is for another school");
  const BoxKey* my_key = me.FindBoxKey(h.recipient_key_id);
  if (!my_key) return Status::PermissionDenied("bundle is addressed to another recipient");
  if (my_key->epoch != h.recipient_epoch) return Status::Corruption("bundle names the wrong key epoch");

  // Who signed it?
  core::SignPublicKey signer{};
  if (h.sender_certificate.empty()) {
    const core::SignPublicKey* pinned = trust.FindPinned(h.sender_key_id);
    if (!pinned) return Status::PermissionDenied("bundle signed by an unknown key");
    signer = *pinned;
  } else {
    RELAIS_ASSIGN_OR_RETURN(Certificate cert, DecodeCertificate(h.sender_certificate));
    if (cert.sign_key_id() != h.sender_key_id)
      return Status::Corruption("sender certificate does not match the signer");
    RELAIS_RETURN_IF_ERROR(trust.CheckCertificate(cert, h.scope, now));
    signer = cert.sign_key;
  }
  if (h.expires_at <= now) return Status::PermissionDenied("bundle expired");

  // The trailer, then the whole ciphertext against the signed hash.
  std::string trailer;
  RELAIS_RETURN_IF_ERROR(source.ReadAt(size - kTrailerBytes, kTrailerBytes, &trailer));
  ByteReader tr(trailer);
  if (tr.Bytes(kTrailerMagic.size()) != kTrailerMagic) return Status::Corruption("bundle trailer missing");
  r->record_count_ = tr.U64();
  r->records_bytes_ = tr.U64();
  uint64_t cipher_bytes = tr.U64();
  std::string_view cipher_hash = tr.Bytes(core::kSha256Bytes);
  core::Signature sig = tr.Array<core::kSignatureBytes>();
  r->cipher_at_ = header_size;
  r->cipher_end_ = size - kTrailerBytes;
  if (cipher_bytes != r->cipher_end_ - r->cipher_at_) return Status::Corruption("bundle truncated or padded");
  if (cipher_bytes < core::kStreamOverheadBytes) return Status::Corruption("bundle has no payload");
  r->header_hash_ = core::Sha256(header);
  if (!core::VerifySignature(
          signer, SignedMessage(r->header_hash_, std::string_view(trailer).substr(0, kTrailerSignedBytes)), sig))
    return Status::Corruption("bundle signature does not verify");
  core::Sha256Stream hasher;
  std::string buf;
  for (uint64_t at = r->cipher_at_; at < r->cipher_end_;) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(kHashChunkBytes, r->cipher_end_ - at));
    RELAIS_RETURN_IF_ERROR(source.ReadAt(at, n, &buf));
    hasher.Update(buf);
    at += n;
  }
  if (hasher.Finish() != cipher_hash) return Status::Corruption("bundle payload does not match its signed hash");

  // Only now open the key: everything above is authentic.
  RELAIS_ASSIGN_OR_RETURN(std::string key_bytes, core::OpenSealed(my_key->keys, sealed_key));
  core::SymmetricKey key;
  bool key_ok = core::CopyTo(key_bytes, &key);
  core::SecureWipe(key_bytes);
  if (!key_ok) return Status::Corruption("sealed bundle key has the wrong size");
  RELAIS_ASSIGN_OR_RETURN(r->stream_, core::SecretStreamPull::Create(key, stream_header));
  RELAIS_ASSIGN_OR_RETURN(r->decompressor_, core::ZstdDecompressor::Create(r->records_bytes_));
  return r;
}

BundleReader::~BundleReader() = default;

Result<bool> BundleReader::Fill(size_t n) {
  constexpr size_t kStep = 64 * 1024;
  while (plain_.size() - plain_at_ < n) {
    if (plain_at_ > 0 && plain_at_ * 2 > plain_.size()) {
      plain_.erase(0, plain_at_);
      plain_at_ = 0;
    }
    if (!pending_.empty() || zstd_may_have_more_) {
      size_t want = std::max(kStep, n - (plain_.size() - plain_at_));
      size_t before = plain_.size();
      RELAIS_RETURN_IF_ERROR(decompressor_->Step(&pending_, &plain_, want));
      zstd_may_have_more_ = plain_.size() - before == want;
      continue;
    }
    if (final_seen_) return false;
    if (cipher_at_ >= cipher_end_) return Status::Corruption("bundle payload ends without its final message");
    size_t len = static_cast<size_t>(std::min<uint64_t>(kStreamCipherBytes, cipher_end_ - cipher_at_));
    std::string cipher;
    RELAIS_RETURN_IF_ERROR(source_->ReadAt(cipher_at_, len, &cipher));
    cipher_at_ += len;
    RELAIS_RETURN_IF_ERROR(stream_->Pull(cipher, header_hash_, &message_, &final_seen_));
    if (final_seen_ && cipher_at_ != cipher_end_) return Status::Corruption("bundle has data after its final message");
    pending_ = message_;
    zstd_may_have_more_ = true;
  }
  return true;
}

Status BundleReader::CheckEnd() {
  if (plain_.size() != plain_at_) return Status::Corruption("bundle payload ends inside a record");
  RELAIS_RETURN_IF_ERROR(decompressor_->Finish());
  if (records_seen_ != record_count_) return Status::Corruption("bundle holds a different number of records");
  if (records_bytes_seen_ != records_bytes_) return Status::Corruption("bundle records have a different size");
  return Status::Ok();
}

Result<bool> BundleReader::Next(Record* out) {
  if (failed_) return Status::Internal("bundle reader already failed");
  if (done_) return false;
  auto fail = [&](Status st) -> Result<bool> {
    failed_ = true;
    return st;
  };
  auto have = Fill(kRecordHeaderBytes);
  if (!have.ok()) return fail(have.status());
  if (!*have) {
    Status st = CheckEnd();
    if (!st.ok()) return fail(st);
    done_ = true;
    return false;
  }
  ByteReader head(std::string_view(plain_).substr(plain_at_, kRecordHeaderBytes));
  uint8_t kind = head.U8();
  uint32_t len = head.U32();
  if (len > kMaxRecordBytes) return fail(Status::Corruption("bundle record over the size limit"));
  plain_at_ += kRecordHeaderBytes;
  have = Fill(len);
  if (!have.ok()) return fail(have.status());
  if (!*have) return fail(Status::Corruption("bundle payload ends inside a record"));
  out->kind = kind;
  out->bytes.assign(plain_, plain_at_, len);
  plain_at_ += len;
  records_seen_++;
  records_bytes_seen_ += kRecordHeaderBytes + len;
  if (records_seen_ > record_count_) return fail(Status::Corruption("bundle holds more records than announced"));
  return true;
}

}  // namespace relais::sync
