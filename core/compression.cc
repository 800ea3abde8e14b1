#include "core/compression.h"

#include <zstd.h>

namespace relais::core {

struct ZstdCompressor::State {
  ZSTD_CCtx* cctx = nullptr;
  ~State() { ZSTD_freeCCtx(cctx); }
};

struct ZstdDecompressor::State {
  ZSTD_DCtx* dctx = nullptr;
  ~State() { ZSTD_freeDCtx(dctx); }
};

namespace {

// Runs the compressor until it consumed `in` (or, when ending, flushed all).
Status Pump(ZSTD_CCtx* cctx, std::string_view data, ZSTD_EndDirective mode, std::string* out) {
  ZSTD_inBuffer in{data.data(), data.size(), 0};
  const size_t chunk = ZSTD_CStreamOutSize();
  for (;;) {
    size_t at = out->size();
    out->resize(at + chunk);
    ZSTD_outBuffer ob{out->data() + at, chunk, 0};
    size_t remaining = ZSTD_compressStream2(cctx, &ob, &in, mode);
    out->resize(at + ob.pos);
    if (ZSTD_isError(remaining)) return Status::Internal(std::string("zstd: ") + ZSTD_getErrorName(remaining));
    bool done = mode == ZSTD_e_continue ? in.pos == in.size : remaining == 0;
    if (done) return Status::Ok();
  }
}

}  // namespace

Result<std::unique_ptr<ZstdCompressor>> ZstdCompressor::Create(int level) {
  std::unique_ptr<ZstdCompressor> c(new ZstdCompressor);
  c->state_ = std::make_unique<State>();
  c->state_->cctx = ZSTD_createCCtx();
  if (!c->state_->cctx) return Status::Internal("zstd: out of memory");
  size_t rc = ZSTD_CCtx_setParameter(c->state_->cctx, ZSTD_c_compressionLevel, level);
  if (ZSTD_isError(rc)) return Status::InvalidArgument(std::string("zstd level: ") + ZSTD_getErrorName(rc));
  return c;
}
ZstdCompressor::~ZstdCompressor() = default;

Status ZstdCompressor::Write(std::string_view data, std::string* out) {
  return Pump(state_->cctx, data, ZSTD_e_continue, out);
}

Status ZstdCompressor::Finish(std::string* out) { return Pump(state_->cctx, {}, ZSTD_e_end, out); }

Result<std::unique_ptr<ZstdDecompressor>> ZstdDecompressor::Create(uint64_t max_output) {
  std::unique_ptr<ZstdDecompressor> d(new ZstdDecompressor);
  d->state_ = std::make_unique<State>();
  d->state_->dctx = ZSTD_createDCtx();
  if (!d->state_->dctx) return Status::Internal("zstd: out of memory");
  // Bound the window a frame may ask for (8 MiB), so a hostile header cannot
  // make us allocate much.
  ZSTD_DCtx_setParameter(d->state_->dctx, ZSTD_d_windowLogMax, 23);
  d->max_ = max_output;
  return d;
}
ZstdDecompressor::~ZstdDecompressor() = default;

Status ZstdDecompressor::Write(std::string_view data, std::string* out) {
  const size_t chunk = ZSTD_DStreamOutSize();
  // A full output buffer may mean more output is pending: go on until the
  // input is consumed and a step comes back short.
  for (;;) {
    size_t before = out->size();
    RELAIS_RETURN_IF_ERROR(Step(&data, out, chunk));
    if (data.empty() && out->size() - before < chunk) return Status::Ok();
  }
}

Status ZstdDecompressor::Step(std::string_view* input, std::string* out, size_t max_out) {
  if (frame_done_ && !input->empty()) return Status::Corruption("zstd: data after the end of the frame");
  ZSTD_inBuffer in{input->data(), input->size(), 0};
  size_t at = out->size();
  out->resize(at + max_out);
  ZSTD_outBuffer ob{out->data() + at, max_out, 0};
  size_t rc = ZSTD_decompressStream(state_->dctx, &ob, &in);
  out->resize(at + ob.pos);
  input->remove_prefix(in.pos);
  if (ZSTD_isError(rc)) return Status::Corruption(std::string("zstd: ") + ZSTD_getErrorName(rc));
  total_ += ob.pos;
  if (total_ > max_) return Status::TooLarge("zstd: output over the announced size");
  if (rc == 0) frame_done_ = true;
  return Status::Ok();
}

Status ZstdDecompressor::Finish() {
  if (!frame_done_) return Status::Corruption("zstd: frame ends early");
  return Status::Ok();
}

Result<std::string> ZstdCompress(std::string_view data, int level) {
  RELAIS_ASSIGN_OR_RETURN(auto c, ZstdCompressor::Create(level));
  std::string out;
  RELAIS_RETURN_IF_ERROR(c->Write(data, &out));
  RELAIS_RETURN_IF_ERROR(c->Finish(&out));
  return out;
}

Result<std::string> ZstdDecompress(std::string_view data, uint64_t max_output) {
  RELAIS_ASSIGN_OR_RETURN(auto d, ZstdDecompressor::Create(max_output));
  std::string out;
  RELAIS_RETURN_IF_ERROR(d->Write(data, &out));
  RELAIS_RETURN_IF_ERROR(d->Finish());
  return out;
}

}  // namespace relais::core
