#include "sync/byte_io.h"

namespace relais::sync {

Status StringSource::ReadAt(uint64_t offset, size_t n, std::string* out) const {
  if (offset > data_.size() || data_.size() - offset < n) return Status::Corruption("read past the end of the data");
  out->assign(data_.substr(offset, n));
  return Status::Ok();
}

Result<std::unique_ptr<FileSource>> FileSource::Open(const std::filesystem::path& path) {
  RELAIS_ASSIGN_OR_RETURN(auto reader, core::FileReader::Open(path));
  return std::unique_ptr<FileSource>(new FileSource(std::move(reader)));
}

Status FileSource::ReadAt(uint64_t offset, size_t n, std::string* out) const {
  out->resize(n);
  size_t done = 0;
  while (done < n) {
    RELAIS_ASSIGN_OR_RETURN(size_t got, reader_->ReadAt(offset + done, out->data() + done, n - done));
    if (got == 0) return Status::Corruption("file ends early");
    done += got;
  }
  return Status::Ok();
}

}  // namespace relais::sync
