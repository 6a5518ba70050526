// Outbox: the device's durable queue of updates not yet acknowledged by the server.
//
//   auto outbox = edgefl::Outbox::open(edgefl::posix_file_system(), "state/outbox");
//   EDGEFL_RETURN_IF_ERROR(outbox->put(update_id, encoded_update));   // before the first send
//   ... on Ack{update_id}:  EDGEFL_RETURN_IF_ERROR(outbox->remove(update_id));
//   ... after a restart or reconnect: for (id : *outbox->list()) resend(*outbox->read(id));
//
// One file per entry, "<id>.upd", written with atomic_write_file, so after a crash at any
// point an entry is either complete or absent; each file is framed with a crc32 so bit rot
// is reported as corrupt rather than sent. open() deletes stray temp files from interrupted
// writes. Ids are 1..128 characters of [A-Za-z0-9._-] not starting with '.'; list() returns
// them in byte order, so a zero-padded round or sequence prefix gives resend order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "edgefl/store/file_system.hpp"
#include "edgefl/base/status.hpp"

namespace edgefl {

struct OutboxOptions {
  std::uint32_t max_entry_bytes = 256u << 20;  // put refuses and read rejects larger entries
};

class Outbox {
 public:
  static Result<Outbox> open(FileSystem& fs, std::string dir, OutboxOptions options = {});

  // Stores an entry durably; `duplicate` if the id is already present.
  Status put(std::string_view id, std::span<const std::byte> payload);
  // Ids present, sorted.
  Result<std::vector<std::string>> list() const;
  // not_found if absent, corrupt if the file fails its checksum.
  Result<std::vector<std::byte>> read(std::string_view id) const;
  // Deletes durably. Removing an absent id is OK (an Ack may arrive twice).
  Status remove(std::string_view id);
  // How many stray temp files open() deleted.
  std::size_t temp_files_removed() const { return temp_files_removed_; }

  static Status check_id(std::string_view id);

 private:
  Outbox(FileSystem& fs, std::string dir, OutboxOptions options) : fs_(&fs), dir_(std::move(dir)), options_(options) {}
  std::string entry_path(std::string_view id) const;

  FileSystem* fs_;
  std::string dir_;
  OutboxOptions options_;
  std::size_t temp_files_removed_ = 0;
};

}  // namespace edgefl
