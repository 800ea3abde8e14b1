// bench/sync_envelope.cc — figures for the sync wire layer (issue 4).
//
//   build/relais_bench_sync_envelope [--records N] [--big-mb M] [--dir DIR]
//
// Prints one line per figure:
//  1. bundling throughput (records/s, MB/s) for N journal-like records
//     (~500-byte JSON with random UUIDs), and reading them back;
//  2. bundle size against zstd alone on the same records (one frame, same
//     level) and against zstd record by record;
//  3. peak memory (VmHWM, reset between phases) while writing and reading a
//     bundle of M MiB of records, and while chunking, sealing, receiving and
//     reassembling an M MiB file: it must not grow with M.
// Everything goes to a temporary folder under DIR (default $TMPDIR or /tmp),
// removed at the end. Not part of `make test`.
#include <malloc.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "core/compression.h"
#include "core/crypto.h"
#include "core/files.h"
#include "sync/chunks.h"
#include "sync/envelope.h"

using namespace relais;
using namespace relais::sync;
namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;
// Times a phase in CPU seconds of this process (the machine may be shared with
// other work: wall time would measure the neighbours) and in wall seconds.
struct Timer {
  Clock::time_point wall = Clock::now();
  std::clock_t cpu = std::clock();
  double Cpu() const { return double(std::clock() - cpu) / CLOCKS_PER_SEC; }
  double Wall() const { return std::chrono::duration<double>(Clock::now() - wall).count(); }
};

// Peak resident set size of this process since the last ResetPeak(), in MiB.
double PeakMiB() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  return -1;
}
double RssMiB() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  return -1;
}
// Gives freed heap back to the system, then makes the current RSS the new peak.
void ResetPeak() {
  malloc_trim(0);
  std::ofstream("/proc/self/clear_refs") << "5";
}

void Die(const Status& st, const char* what) {
  std::fprintf(stderr, "sync bench: %s: %s\n", what, st.ToString().c_str());
  std::exit(1);
}
template <typename T>
T Must(Result<T> r, const char* what) {
  if (!r.ok()) Die(r.status(), what);
  return std::move(r).value();
}
void Must(const Status& st, const char* what) {
  if (!st.ok()) Die(st, what);
}

const char* kWords[] = {"exercice",   "page",       "rédaction", "lecture", "calcul", "problème", "histoire",
                        "géographie", "correction", "devoir",    "cahier",  "schéma", "question", "réponse"};

// A journal-like record: an upsert of a hand-in, ~500 bytes of JSON.
std::string JournalRecord(uint64_t seq) {
  std::string text;
  uint64_t x = seq * 2654435761u + 1;
  while (text.size() < 240) {
    x = x * 6364136223846793005u + 1442695040888963407u;
    text += kWords[(x >> 33) % (sizeof kWords / sizeof *kWords)];
    text += ' ';
  }
  return "{\"op\":\"upsert\",\"table\":\"submissions\",\"origin\":\"" + core::NewUuid() +
         "\",\"seq\":" + std::to_string(seq) + ",\"hlc\":" + std::to_string(1790000000000ull * 65536 + seq) +
         ",\"id\":\"" + core::NewUuid() + "\",\"homework_id\":\"" + core::NewUuid() + "\",\"student_id\":\"" +
         core::NewUuid() + "\",\"text\":\"" + text + "\",\"updated_at\":\"2026-11-22T19:30:00Z\"}";
}

struct Parties {
  std::unique_ptr<Identity> gateway = Identity::Generate();
  std::unique_ptr<Identity> box = Identity::Generate();
  TrustStore trust;
  std::string cert;
  Parties() {
    trust.Pin(gateway->sign_public_key());
    cert = EncodeCertificate(
        Must(IssueCertificate(*gateway, Role::kBox, "0971234A", 1, PublicKeysOf(*box), 0, 4000000000), "cert"));
  }
  Recipient to_gateway() const {
    return Recipient{gateway->current_box_key().keys.public_key, gateway->current_box_key().epoch};
  }
  std::unique_ptr<BundleWriter> Writer(ByteSink* sink) const {
    BundleOptions opt;
    opt.scope = "0971234A";
    opt.expires_at = 4000000000;
    opt.sender_certificate = cert;
    return Must(BundleWriter::Create(*box, to_gateway(), opt, sink), "writer");
  }
};

// Writes a bundle of `records` to `path`; returns its summary.
BundleSummary WriteBundle(const Parties& p, const fs::path& dir, const fs::path& path,
                          const std::function<bool(uint8_t*, std::string*)>& next) {
  auto file = Must(core::StreamingFile::Create(dir), "create");
  StreamingFileSink sink(file.get());
  auto w = p.Writer(&sink);
  std::string rec;
  uint8_t kind = 1;
  while (next(&kind, &rec)) Must(w->Add(kind, rec), "add");
  BundleSummary s = Must(w->Finish(), "finish");
  Must(file->CommitTo(path), "commit");
  return s;
}

uint64_t ReadBundle(const Parties& p, const fs::path& path) {
  auto source = Must(FileSource::Open(path), "open");
  auto reader = Must(BundleReader::Open(*source, *p.gateway, p.trust, "0971234A", 0), "reader");
  Record r;
  uint64_t n = 0;
  while (Must(reader->Next(&r), "next")) ++n;
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  Must(core::InitCrypto(), "init");
  size_t records = 100000;
  uint64_t big_mb = 1024;
  fs::path base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--records"))
      records = std::stoul(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--big-mb"))
      big_mb = std::stoull(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--dir"))
      base = argv[i + 1];
  }
  fs::path dir = base / ("relais-sync-bench-" + core::RandomToken(6));
  fs::create_directories(dir);
  Parties p;
  Timer total;

  // 1 and 2: journal-like records.
  std::vector<std::string> recs;
  recs.reserve(records);
  uint64_t raw = 0;
  for (size_t i = 0; i < records; ++i) {
    recs.push_back(JournalRecord(i));
    raw += recs.back().size();
  }
  size_t at = 0;
  Timer t0;
  BundleSummary s = WriteBundle(p, dir, dir / "records.bundle", [&](uint8_t* kind, std::string* out) {
    if (at == recs.size()) return false;
    *kind = 1;
    *out = recs[at++];
    return true;
  });
  double write_s = t0.Cpu();
  t0 = Timer();
  uint64_t back = ReadBundle(p, dir / "records.bundle");
  double read_s = t0.Cpu();
  if (back != records) Die(Status::Internal("record count"), "read back");
  std::printf("bundle_write records=%zu raw_mb=%.1f seconds=%.2f records_per_s=%.0f mb_per_s=%.1f\n", records,
              raw / 1e6, write_s, records / write_s, raw / 1e6 / write_s);
  std::printf(
      "bundle_read records=%zu seconds=%.2f records_per_s=%.0f mb_per_s=%.1f (verify pass + decrypt + "
      "decompress)\n",
      records, read_s, records / read_s, raw / 1e6 / read_s);

  std::string all;
  all.reserve(raw);
  uint64_t per_record = 0;
  for (const auto& r : recs) {
    all += r;
    per_record += Must(core::ZstdCompress(r), "zstd").size();
  }
  uint64_t one_frame = Must(core::ZstdCompress(all), "zstd").size();
  std::printf(
      "bundle_size raw=%lu bundle=%lu zstd_one_frame=%lu zstd_per_record=%lu bundle_vs_zstd=%+.2f%% "
      "ratio_raw_over_bundle=%.2f\n",
      static_cast<unsigned long>(raw), static_cast<unsigned long>(s.bundle_bytes),
      static_cast<unsigned long>(one_frame), static_cast<unsigned long>(per_record),
      100.0 * (double(s.bundle_bytes) - double(one_frame)) / double(one_frame), double(raw) / double(s.bundle_bytes));
  std::vector<std::string>().swap(recs);
  std::string().swap(all);

  // 3a: a big bundle, memory while writing and reading.
  const uint64_t big = big_mb << 20;
  const std::string half(32 * 1024, 'a');
  uint64_t written = 0;
  ResetPeak();
  double before = RssMiB();
  t0 = Timer();
  BundleSummary bs = WriteBundle(p, dir, dir / "big.bundle", [&](uint8_t* kind, std::string* out) {
    if (written >= big) return false;
    *kind = 2;
    *out = core::RandomBytes(half.size()) + half;  // distinct records that compress about 2x
    written += out->size();
    return true;
  });
  double big_write = t0.Cpu();
  double write_peak = PeakMiB();
  ResetPeak();
  t0 = Timer();
  ReadBundle(p, dir / "big.bundle");
  double big_read = t0.Cpu();
  double read_peak = PeakMiB();
  std::printf(
      "big_bundle mb=%lu bundle_mb=%.1f write_s=%.1f read_s=%.1f rss_mib_before=%.1f "
      "rss_peak_mib_write=%.1f rss_peak_mib_read=%.1f\n",
      static_cast<unsigned long>(big_mb), bs.bundle_bytes / 1048576.0, big_write, big_read, before, write_peak,
      read_peak);
  fs::remove(dir / "big.bundle");

  // 3b: a big file as chunks, default sizes (256 KiB / 1 MiB / 4 MiB).
  {
    auto out = Must(core::StreamingFile::Create(dir), "create");
    std::string buf;
    for (uint64_t done = 0; done < big; done += buf.size()) {
      buf = core::RandomBytes(1 << 20);
      Must(out->Append(buf), "append");
    }
    Must(out->CommitTo(dir / "video.mp4"), "commit");
  }
  ResetPeak();
  double file_before = RssMiB();
  t0 = Timer();
  Manifest m = Must(BuildManifest(dir / "video.mp4", ChunkParams{}), "manifest");
  double chunk_s = t0.Cpu();
  auto reader = Must(core::FileReader::Open(dir / "video.mp4"), "open");
  ChunkStore store = Must(ChunkStore::Open(dir / "incoming"), "store");
  auto wanted = WantedChunks(m, [&](const ChunkHash& h) { return store.Has(h); });
  t0 = Timer();
  uint64_t sealed_bytes = 0;
  for (uint32_t i : wanted) {
    std::string sealed = Must(ReadAndSealChunk(m, i, *reader), "seal");
    sealed_bytes += sealed.size();
    Must(store.PutSealed(m, i, sealed), "put");
  }
  double transfer_s = t0.Cpu();
  t0 = Timer();
  Must(store.Assemble(m, dir / "copy.mp4"), "assemble");
  double assemble_s = t0.Cpu();
  double chunk_peak = PeakMiB();
  std::printf(
      "big_file mb=%lu chunks=%zu avg_chunk_kib=%.0f manifest_bytes=%zu chunking_mb_per_s=%.0f "
      "seal_open_store_mb_per_s=%.0f assemble_mb_per_s=%.0f sealed_overhead_bytes=%lu rss_mib_before=%.1f "
      "rss_peak_mib=%.1f\n",
      static_cast<unsigned long>(big_mb), m.chunks.size(), big / 1024.0 / double(m.chunks.size()),
      EncodeManifest(m).size(), big_mb / chunk_s, big_mb / transfer_s, big_mb / assemble_s,
      static_cast<unsigned long>(sealed_bytes - big), file_before, chunk_peak);
  std::printf("note: throughputs are per CPU second of this process (single-threaded); wall_total_s=%.1f\n",
              total.Wall());
  fs::remove_all(dir);
  return 0;
}
