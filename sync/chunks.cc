#include "sync/chunks.h"

#include <algorithm>
#include <bit>
#include <set>

#include "sync/byte_io.h"

namespace relais::sync {
namespace {

// The gear table: 256 pseudo-random 64-bit values from splitmix64 seeded with
// kGearSeed. Part of the format: every party must cut files the same way.
constexpr uint64_t kGearSeed = 0x52656c6169734344;  // "RelaisCD"

struct GearTable {
  uint64_t v[256];
  constexpr GearTable() : v() {
    uint64_t x = kGearSeed;
    for (auto& g : v) {
      x += 0x9e3779b97f4a7c15;
      uint64_t z = x;
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
      z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
      g = z ^ (z >> 31);
    }
  }
};
constexpr GearTable kGear;

// A mask of the top `bits` bits: the hash's top bits depend on the last 64
// bytes, the window of the gear hash.
uint64_t TopMask(int bits) { return bits <= 0 ? 0 : ~uint64_t{0} << (64 - bits); }

std::string ChunkAd(const Manifest& m, uint32_t index) {
  std::string ad = m.blob_id;
  ByteWriter w(&ad);
  w.U32(index);
  return ad;
}

ChunkHash HashOf(std::string_view data) {
  ChunkHash h;
  core::CopyTo(core::Sha256(data), &h);
  return h;
}

}  // namespace

Status ChunkParams::Validate() const {
  if (min_bytes < 64 || min_bytes >= avg_bytes || avg_bytes >= max_bytes || max_bytes > kMaxChunkBytes)
    return Status::InvalidArgument("chunk sizes must satisfy 64 <= min < avg < max <= 64 MiB");
  return Status::Ok();
}

std::string ChunkHashHex(const ChunkHash& hash) { return core::ToHex(core::AsView(hash)); }

size_t NextChunkLength(std::string_view data, const ChunkParams& p) {
  size_t n = std::min<size_t>(data.size(), p.max_bytes);
  if (n <= p.min_bytes) return n;  // the tail of a file, or a tiny file
  const int bits = std::bit_width(p.avg_bytes) - 1;
  const uint64_t mask_small = TopMask(bits + 2);  // harder to match before avg
  const uint64_t mask_large = TopMask(bits - 2);  // easier after
  const size_t normal = std::min<size_t>(n, p.avg_bytes);
  const auto* b = reinterpret_cast<const uint8_t*>(data.data());
  uint64_t fp = 0;
  size_t i = p.min_bytes;
  for (; i < normal; ++i) {
    fp = (fp << 1) + kGear.v[b[i]];
    if (!(fp & mask_small)) return i + 1;
  }
  for (; i < n; ++i) {
    fp = (fp << 1) + kGear.v[b[i]];
    if (!(fp & mask_large)) return i + 1;
  }
  return n;
}

Status ChunkCutter::Add(std::string_view data, const Sink& sink) {
  whole_.Update(data);
  size_ += data.size();
  buf_.append(data);
  return buf_.size() >= params_.max_bytes ? Cut(false, sink) : Status::Ok();
}

Status ChunkCutter::Cut(bool last, const Sink& sink) {
  // Whole chunks only: a chunk is cut once max_bytes follow its start, or at
  // the end of the stream (NextChunkLength's contract).
  size_t start = 0;
  uint64_t offset = size_ - buf_.size();
  Status st;
  while (st.ok() && buf_.size() - start > 0 && (last || buf_.size() - start >= params_.max_bytes)) {
    std::string_view rest = std::string_view(buf_).substr(start);
    size_t len = NextChunkLength(rest, params_);
    ChunkRef ref;
    ref.hash = HashOf(rest.substr(0, len));
    ref.offset = offset;
    ref.size = static_cast<uint32_t>(len);
    st = sink(ref, rest.substr(0, len));
    chunks_.push_back(ref);
    offset += len;
    start += len;
  }
  buf_.erase(0, start);  // once per Add that cut: linear in the stream's size
  return st;
}

Result<Manifest> ChunkCutter::Finish(const Sink& sink) {
  RELAIS_RETURN_IF_ERROR(Cut(true, sink));
  Manifest m;
  m.size = size_;
  m.key = core::NewSymmetricKey();
  m.chunks = std::move(chunks_);
  m.blob_id = whole_.Finish();
  return m;
}

Result<Manifest> BuildManifest(const std::filesystem::path& file, const ChunkParams& params) {
  RELAIS_RETURN_IF_ERROR(params.Validate());
  RELAIS_ASSIGN_OR_RETURN(auto reader, core::FileReader::Open(file));
  const uint64_t size = reader->size();
  ChunkCutter cutter(params);
  auto ignore = [](const ChunkRef&, std::string_view) { return Status::Ok(); };
  std::string piece(1 << 20, '\0');
  while (cutter.size() < size) {
    RELAIS_ASSIGN_OR_RETURN(size_t got, reader->ReadAt(cutter.size(), piece.data(), piece.size()));
    if (got == 0) return Status::IOError(file.string() + " shrank while being read");
    RELAIS_RETURN_IF_ERROR(cutter.Add(std::string_view(piece.data(), got), ignore));
  }
  return cutter.Finish(ignore);
}

std::string EncodeManifest(const Manifest& m) {
  std::string out;
  ByteWriter w(&out);
  w.Bytes(kManifestMagic);
  w.U16(kManifestVersion);
  w.Bytes(m.blob_id);
  w.U64(m.size);
  w.Bytes(m.key.view());
  w.U32(static_cast<uint32_t>(m.chunks.size()));
  for (const ChunkRef& c : m.chunks) {
    w.Bytes(c.hash);
    w.U32(c.size);
  }
  return out;
}

Result<Manifest> DecodeManifest(std::string_view bytes) {
  ByteReader r(bytes);
  if (r.Bytes(kManifestMagic.size()) != kManifestMagic) return Status::Corruption("not a Relais manifest");
  uint16_t version = r.U16();
  if (!r.ok()) return Status::Corruption("manifest truncated");
  if (version != kManifestVersion)
    return Status::InvalidArgument("manifest version " + std::to_string(version) + " is not supported");
  Manifest m;
  m.blob_id = std::string(r.Bytes(core::kSha256Bytes));
  m.size = r.U64();
  core::CopyTo(r.Bytes(core::kSymmetricKeyBytes), &m.key);
  uint32_t count = r.U32();
  if (!r.ok() || r.remaining() != uint64_t{count} * (core::kSha256Bytes + 4))
    return Status::Corruption("manifest has the wrong length");
  m.chunks.resize(count);
  uint64_t offset = 0;
  for (ChunkRef& c : m.chunks) {
    c.hash = r.Array<core::kSha256Bytes>();
    c.size = r.U32();
    if (c.size == 0 || c.size > kMaxChunkBytes) return Status::Corruption("manifest chunk size out of range");
    c.offset = offset;
    offset += c.size;
  }
  if (!r.done() || offset != m.size) return Status::Corruption("manifest chunk sizes do not add up to the file size");
  return m;
}

std::string SealChunk(const Manifest& m, uint32_t index, std::string_view plaintext) {
  std::string nonce = core::RandomBytes(core::kAeadNonceBytes);
  std::string out(1, static_cast<char>(kChunkVersion));
  out += nonce;
  out += core::AeadEncrypt(m.key, nonce, plaintext, ChunkAd(m, index));
  return out;
}

Result<std::string> ReadAndSealChunk(const Manifest& m, uint32_t index, const core::FileReader& file) {
  if (index >= m.chunks.size()) return Status::InvalidArgument("no such chunk");
  const ChunkRef& c = m.chunks[index];
  std::string plain(c.size, '\0');
  size_t done = 0;
  while (done < plain.size()) {
    RELAIS_ASSIGN_OR_RETURN(size_t got, file.ReadAt(c.offset + done, plain.data() + done, plain.size() - done));
    if (got == 0) return Status::IOError("file shorter than its manifest");
    done += got;
  }
  if (HashOf(plain) != c.hash) return Status::Conflict("file changed since its manifest was built");
  return SealChunk(m, index, plain);
}

Result<std::string> OpenChunk(const Manifest& m, uint32_t index, std::string_view sealed) {
  if (index >= m.chunks.size()) return Status::InvalidArgument("no such chunk");
  if (sealed.size() < kChunkOverheadBytes) return Status::Corruption("sealed chunk truncated");
  if (static_cast<uint8_t>(sealed[0]) != kChunkVersion)
    return Status::InvalidArgument("chunk format version " + std::to_string(static_cast<uint8_t>(sealed[0])) +
                                   " is not supported");
  std::string_view nonce = sealed.substr(1, core::kAeadNonceBytes);
  RELAIS_ASSIGN_OR_RETURN(std::string plain,
                          core::AeadDecrypt(m.key, nonce, sealed.substr(1 + nonce.size()), ChunkAd(m, index)));
  if (plain.size() != m.chunks[index].size || HashOf(plain) != m.chunks[index].hash)
    return Status::Corruption("chunk does not match its manifest");
  return plain;
}

std::vector<uint32_t> WantedChunks(const Manifest& m, const std::function<bool(const ChunkHash&)>& have) {
  std::vector<uint32_t> out;
  std::set<ChunkHash> seen;
  for (uint32_t i = 0; i < m.chunks.size(); ++i) {
    const ChunkHash& h = m.chunks[i].hash;
    if (!seen.insert(h).second || have(h)) continue;
    out.push_back(i);
  }
  return out;
}

Result<ChunkStore> ChunkStore::Open(const std::filesystem::path& dir) {
  RELAIS_RETURN_IF_ERROR(core::MakeDirs(dir));
  return ChunkStore(dir);
}

std::filesystem::path ChunkStore::PathOf(const ChunkHash& hash) const { return dir_ / ChunkHashHex(hash); }

bool ChunkStore::Has(const ChunkHash& hash) const {
  std::error_code ec;
  return std::filesystem::exists(PathOf(hash), ec);
}

Status ChunkStore::Put(const ChunkHash& hash, std::string_view plaintext) {
  if (HashOf(plaintext) != hash) return Status::Corruption("chunk does not match its hash");
  return core::WriteFileAtomic(PathOf(hash), plaintext, 0600);
}

Status ChunkStore::PutSealed(const Manifest& manifest, uint32_t index, std::string_view sealed) {
  RELAIS_ASSIGN_OR_RETURN(std::string plain, OpenChunk(manifest, index, sealed));
  return core::WriteFileAtomic(PathOf(manifest.chunks[index].hash), plain, 0600);
}

Status ChunkStore::Assemble(const Manifest& m, const std::filesystem::path& target) const {
  for (const ChunkRef& c : m.chunks)
    if (!Has(c.hash)) return Status::NotFound("chunk " + ChunkHashHex(c.hash) + " not received yet");
  auto dir = target.parent_path().empty() ? std::filesystem::path(".") : target.parent_path();
  RELAIS_ASSIGN_OR_RETURN(auto out, core::StreamingFile::Create(dir));
  core::Sha256Stream whole;
  for (const ChunkRef& c : m.chunks) {
    RELAIS_ASSIGN_OR_RETURN(std::string plain, core::ReadFile(PathOf(c.hash)));
    if (plain.size() != c.size || HashOf(plain) != c.hash)
      return Status::Corruption("stored chunk " + ChunkHashHex(c.hash) + " is damaged");
    whole.Update(plain);
    RELAIS_RETURN_IF_ERROR(out->Append(plain));
  }
  if (whole.Finish() != m.blob_id) return Status::Corruption("assembled file does not match its blob id");
  return out->CommitTo(target);
}

void ChunkStore::Remove(const Manifest& m) {
  std::error_code ec;
  for (const ChunkRef& c : m.chunks) std::filesystem::remove(PathOf(c.hash), ec);
}

bool IsChunkId(std::string_view id) {
  if (id.size() != 64) return false;
  for (char c : id)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace relais::sync
