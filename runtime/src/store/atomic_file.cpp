#include "edgefl/store/atomic_file.hpp"

namespace edgefl {

namespace {

Status write_synced(FileSystem& fs, const std::string& path, std::span<const std::byte> bytes) {
  Result<std::unique_ptr<WritableFile>> file = fs.new_writable(path);
  if (!file) return file.status();
  EDGEFL_RETURN_IF_ERROR((*file)->append(bytes));
  EDGEFL_RETURN_IF_ERROR((*file)->sync());
  return (*file)->close();
}

}  // namespace

Status atomic_write_file(FileSystem& fs, const std::string& path, std::span<const std::byte> bytes) {
  const std::string temp = path + kTempSuffix;
  Status status = write_synced(fs, temp, bytes);
  if (status.ok()) status = fs.rename(temp, path);
  if (!status.ok()) {
    (void)fs.remove(temp);  // best effort: a leftover temp file is harmless and overwritten later
    return status.with_context("atomic write of " + path);
  }
  return fs.sync_dir(parent_dir(path)).with_context("atomic write of " + path);
}

Status atomic_write_file(const std::string& path, std::span<const std::byte> bytes) {
  return atomic_write_file(posix_file_system(), path, bytes);
}

Result<std::vector<std::byte>> read_file(FileSystem& fs, const std::string& path, std::uint64_t max_bytes) {
  Result<std::uint64_t> size = fs.file_size(path);
  if (!size) return size.status();
  if (*size > max_bytes) {
    return Status(StatusCode::too_large, path + " has " + std::to_string(*size) + " bytes, limit is " +
                                             std::to_string(max_bytes));
  }
  Result<std::unique_ptr<SequentialFile>> file = fs.open_sequential(path);
  if (!file) return file.status();
  std::vector<std::byte> data(static_cast<std::size_t>(*size));
  std::size_t filled = 0;
  while (filled < data.size()) {
    Result<std::size_t> got = (*file)->read(std::span<std::byte>(data).subspan(filled));
    if (!got) return got.status();
    if (*got == 0) break;  // shrank while reading
    filled += *got;
  }
  data.resize(filled);
  // One more read: a file that grew since stat must not be returned cut short.
  std::byte probe[1];
  Result<std::size_t> more = (*file)->read(probe);
  if (!more) return more.status();
  if (*more != 0) return Status(StatusCode::io_error, path + " grew while being read");
  return data;
}

Result<std::vector<std::byte>> read_file(const std::string& path, std::uint64_t max_bytes) {
  return read_file(posix_file_system(), path, max_bytes);
}

}  // namespace edgefl
