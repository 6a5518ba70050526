// FileSystem: the small seam every durable file in edgefl is written through.
//
//   edgefl::FileSystem& fs = edgefl::posix_file_system();      // the real disk
//   auto file = fs.new_writable("/var/lib/edgefl/x.tmp");
//   if (!file) return file.status();
//   EDGEFL_RETURN_IF_ERROR((*file)->append(bytes));
//   EDGEFL_RETURN_IF_ERROR((*file)->sync());                   // fsync: data is durable
//
// The write-ahead log, the device outbox and atomic_write_file take a FileSystem& so fault
// tests can swap in FaultFileSystem (fault_file_system.hpp), which fails chosen operations and
// simulates power loss by dropping whatever was not synced (LevelDB's Env idea, kept small).
// Durability rules the implementations model: file data is durable after sync(); a create,
// rename or remove is durable after sync_dir() of the directory holding the name.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "edgefl/base/status.hpp"

namespace edgefl {

// A file open for writing at its end. Destroying it closes it (without syncing).
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  // Writes all of `data` at the end of the file (loops over short writes).
  virtual Status append(std::span<const std::byte> data) = 0;
  // fsync: everything appended so far survives a crash.
  virtual Status sync() = 0;
  virtual Status close() = 0;
};

// A file read front to back.
class SequentialFile {
 public:
  virtual ~SequentialFile() = default;
  // Reads up to out.size() bytes; returns how many were read, 0 at end of file.
  virtual Result<std::size_t> read(std::span<std::byte> out) = 0;
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;
  // Creates `path` or truncates it to zero length.
  virtual Result<std::unique_ptr<WritableFile>> new_writable(const std::string& path) = 0;
  // Opens an existing file to append at its end (not_found if it does not exist).
  virtual Result<std::unique_ptr<WritableFile>> open_appendable(const std::string& path) = 0;
  virtual Result<std::unique_ptr<SequentialFile>> open_sequential(const std::string& path) = 0;
  virtual Result<std::uint64_t> file_size(const std::string& path) = 0;
  // Cuts the file to `size` bytes and syncs it.
  virtual Status truncate(const std::string& path, std::uint64_t size) = 0;
  // Atomically replaces `to` (if present) with `from`.
  virtual Status rename(const std::string& from, const std::string& to) = 0;
  virtual Status remove(const std::string& path) = 0;
  // Creates the directory (and missing parents); OK if it already exists.
  virtual Status create_dir(const std::string& path) = 0;
  // fsync of a directory: creates, renames and removes of names in it become durable.
  virtual Status sync_dir(const std::string& path) = 0;
  // Names (not paths) of the entries of a directory, in no particular order.
  virtual Result<std::vector<std::string>> list_dir(const std::string& path) = 0;
};

// The real POSIX file system. Stateless; safe to share between threads.
FileSystem& posix_file_system();

// "dir/name" joined with one separator; parent directory of a path ("." when it has none).
std::string join_path(const std::string& dir, const std::string& name);
std::string parent_dir(const std::string& path);

}  // namespace edgefl
