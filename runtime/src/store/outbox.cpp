#include "edgefl/store/outbox.hpp"

#include <algorithm>

#include "edgefl/store/atomic_file.hpp"
#include "record_frame.hpp"

namespace edgefl {

namespace {

constexpr std::uint32_t kEntryMagic = 0x424F4645;  // "EFOB" little-endian
constexpr std::string_view kEntrySuffix = ".upd";
constexpr std::size_t kMaxIdLength = 128;

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

}  // namespace

Status Outbox::check_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxIdLength) {
    return Status(StatusCode::invalid_argument, "outbox id must have 1.." + std::to_string(kMaxIdLength) +
                                                    " characters, got " + std::to_string(id.size()));
  }
  if (id.front() == '.') return Status(StatusCode::invalid_argument, "outbox id may not start with '.'");
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == '-';
    if (!ok) return Status(StatusCode::invalid_argument, "outbox id has a character outside [A-Za-z0-9._-]");
  }
  return {};
}

std::string Outbox::entry_path(std::string_view id) const {
  return join_path(dir_, std::string(id) + std::string(kEntrySuffix));
}

Result<Outbox> Outbox::open(FileSystem& fs, std::string dir, OutboxOptions options) {
  Outbox outbox(fs, std::move(dir), options);
  const std::string context = "opening outbox " + outbox.dir_;
  EDGEFL_RETURN_IF_ERROR(fs.create_dir(outbox.dir_).with_context(context));
  Result<std::vector<std::string>> names = fs.list_dir(outbox.dir_);
  if (!names) return names.status().with_context(context);
  for (const std::string& name : *names) {
    if (!ends_with(name, kTempSuffix)) continue;
    EDGEFL_RETURN_IF_ERROR(fs.remove(join_path(outbox.dir_, name)).with_context(context));
    ++outbox.temp_files_removed_;
  }
  if (outbox.temp_files_removed_ != 0) EDGEFL_RETURN_IF_ERROR(fs.sync_dir(outbox.dir_).with_context(context));
  return outbox;
}

Status Outbox::put(std::string_view id, std::span<const std::byte> payload) {
  EDGEFL_RETURN_IF_ERROR(check_id(id));
  if (payload.size() > options_.max_entry_bytes) {
    return Status(StatusCode::too_large, "outbox entry of " + std::to_string(payload.size()) +
                                             " bytes, limit is " + std::to_string(options_.max_entry_bytes));
  }
  const std::string path = entry_path(id);
  Result<std::uint64_t> existing = fs_->file_size(path);
  if (existing) return Status(StatusCode::duplicate, "outbox already holds " + std::string(id));
  if (existing.status().code() != StatusCode::not_found) return existing.status();

  auto header = store_detail::frame_header(kEntryMagic, payload);
  std::vector<std::byte> bytes(header.begin(), header.end());
  bytes.insert(bytes.end(), payload.begin(), payload.end());
  return atomic_write_file(*fs_, path, bytes);
}

Result<std::vector<std::string>> Outbox::list() const {
  Result<std::vector<std::string>> names = fs_->list_dir(dir_);
  if (!names) return names.status().with_context("listing outbox " + dir_);
  std::vector<std::string> ids;
  for (const std::string& name : *names) {
    if (!ends_with(name, kEntrySuffix)) continue;
    std::string id = name.substr(0, name.size() - kEntrySuffix.size());
    if (check_id(id).ok()) ids.push_back(std::move(id));
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

Result<std::vector<std::byte>> Outbox::read(std::string_view id) const {
  EDGEFL_RETURN_IF_ERROR(check_id(id));
  const std::string path = entry_path(id);
  Result<std::vector<std::byte>> bytes =
      read_file(*fs_, path, std::uint64_t{options_.max_entry_bytes} + store_detail::kFrameHeaderBytes);
  if (!bytes) return bytes.status();
  std::vector<std::byte>& data = *bytes;
  if (data.size() < store_detail::kFrameHeaderBytes || store_detail::get_u32(data.data()) != kEntryMagic) {
    return Status(StatusCode::corrupt, path + ": not an outbox entry");
  }
  std::span<const std::byte> payload(data.data() + store_detail::kFrameHeaderBytes,
                                     data.size() - store_detail::kFrameHeaderBytes);
  if (!store_detail::frame_payload_matches(data.data(), payload)) {
    return Status(StatusCode::corrupt, path + ": checksum or length mismatch");
  }
  data.erase(data.begin(), data.begin() + store_detail::kFrameHeaderBytes);  // in place: no second copy
  return std::move(data);
}

Status Outbox::remove(std::string_view id) {
  EDGEFL_RETURN_IF_ERROR(check_id(id));
  const std::string path = entry_path(id);
  Status status = fs_->remove(path);
  // Already absent is fine, but still sync: an earlier remove may have failed before its sync.
  if (!status.ok() && status.code() != StatusCode::not_found) return status.with_context("removing outbox entry");
  return fs_->sync_dir(dir_).with_context("removing outbox entry");
}

}  // namespace edgefl
