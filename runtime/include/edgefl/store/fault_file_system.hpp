// FaultFileSystem: an in-memory FileSystem for fault tests — fails chosen operations and
// simulates power loss by dropping whatever was not made durable.
//
//   edgefl::FaultFileSystem fs;
//   fs.fail_from(17);          // the 17th mutating operation and all later ones fail: the
//                              // process "died" there
//   run_workload(fs);          // sees io_error from operation 17 on
//   fs.crash();                // power loss: unsynced data and unsynced renames vanish
//   recover_and_check(fs);     // reopen through the same fs, assert what survived
//
// Durability model (pessimistic POSIX): file bytes are durable after WritableFile::sync();
// a create, rename or remove is durable after sync_dir() of its directory, which (like a
// journalling file system's commit) also makes every earlier name operation durable.
// crash(&rng) is the torn-write variant: it additionally keeps a random prefix of the
// unsynced appended bytes of each file and a random prefix of the unsynced name operations.
// Directories are created durably at once. Handles opened before a crash fail afterwards.
// Mutating operations (counted from 1): new_writable, open_appendable, append, sync, truncate,
// rename, remove, create_dir, sync_dir. Reads are never counted and never fail.
// Not thread-safe: one workload at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "edgefl/store/file_system.hpp"
#include "edgefl/base/rng.hpp"

namespace edgefl {

class FaultFileSystem final : public FileSystem {
 public:
  FaultFileSystem();
  ~FaultFileSystem() override;

  // Operation `n` (1-based) and every later mutating operation fail with io_error.
  void fail_from(std::uint64_t n);
  // Only operation `n` fails; later ones succeed again (a transient error).
  void fail_once(std::uint64_t n);
  // Removes any planned failure.
  void clear_faults();
  // Number of mutating operations attempted so far (failed ones included).
  std::uint64_t operation_count() const { return operations_; }
  // Number of WritableFile::sync calls on the file at `path` so far (failed ones included).
  std::uint64_t file_syncs(const std::string& path) const;

  // Power loss. Without rng: everything not durable is dropped. With rng: torn variant.
  // Clears the failure plan and invalidates every open handle.
  void crash(Rng* rng = nullptr);

  // Test helpers: the current bytes of a file; overwrite one byte (bit rot).
  Result<std::vector<std::byte>> contents(const std::string& path) const;
  Status corrupt_byte(const std::string& path, std::uint64_t offset, std::byte value);

  Result<std::unique_ptr<WritableFile>> new_writable(const std::string& path) override;
  Result<std::unique_ptr<WritableFile>> open_appendable(const std::string& path) override;
  Result<std::unique_ptr<SequentialFile>> open_sequential(const std::string& path) override;
  Result<std::uint64_t> file_size(const std::string& path) override;
  Status truncate(const std::string& path, std::uint64_t size) override;
  Status rename(const std::string& from, const std::string& to) override;
  Status remove(const std::string& path) override;
  Status create_dir(const std::string& path) override;
  Status sync_dir(const std::string& path) override;
  Result<std::vector<std::string>> list_dir(const std::string& path) override;

  struct Node;  // one file's bytes: current and last synced
  // Checks the failure plan and counts one mutating operation.
  Status begin_operation(const char* operation, const std::string& path);
  // begin_operation for WritableFile::sync, counted per path for file_syncs.
  Status begin_file_sync(const std::string& path);
  std::uint64_t epoch() const { return epoch_; }

 private:
  struct NameOp {
    enum class Kind { link, unlink, rename } kind;
    std::string path;            // the name created, removed, or renamed to
    std::shared_ptr<Node> node;  // for link
    std::string from;            // for rename
  };
  static void apply(std::map<std::string, std::shared_ptr<Node>>& names, const NameOp& op);
  static bool touches(const NameOp& op, const std::string& dir);
  void record(NameOp op);
  Status check_parent(const std::string& path) const;

  std::map<std::string, std::shared_ptr<Node>> names_;          // what the process sees
  std::map<std::string, std::shared_ptr<Node>> durable_names_;  // what survives a crash
  std::vector<NameOp> pending_;                                // name ops not yet durable
  std::set<std::string> dirs_;
  std::uint64_t operations_ = 0;
  std::map<std::string, std::uint64_t> file_syncs_;
  std::uint64_t fail_from_ = 0;  // 0 = never
  std::uint64_t fail_once_ = 0;
  std::uint64_t epoch_ = 0;
};

}  // namespace edgefl
