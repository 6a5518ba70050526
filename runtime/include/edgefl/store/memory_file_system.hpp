// MemoryFileSystem: files held in memory, safe to share between threads. For simulations
// whose devices keep their outboxes in RAM instead of writing (and fsyncing) thousands of
// files: every operation succeeds as on a disk that never fails or loses power; sync and
// sync_dir do nothing. (FaultFileSystem models failures and power loss, for one thread.)
//
//   edgefl::MemoryFileSystem fs;
//   auto agent = device::DeviceAgent::create(config, samples, fs, log, &pool);
//
// Paths are plain strings: "a/b" and "a//b" are different names. A file can be created only
// in a directory made by create_dir (or ".").
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "edgefl/store/file_system.hpp"

namespace edgefl {

class MemoryFileSystem final : public FileSystem {
 public:
  MemoryFileSystem();
  ~MemoryFileSystem() override;

  // Bytes held by all files (what the outboxes cost in RAM).
  std::size_t stored_bytes() const;

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

 private:
  using Contents = std::shared_ptr<std::vector<std::byte>>;
  class Writable;
  class Sequential;
  Result<Contents> find_file(const std::string& path) const;  // with mutex_ held

  mutable std::mutex mutex_;  // guards the maps and every file's bytes
  std::map<std::string, Contents> files_;
  std::set<std::string> dirs_;
};

}  // namespace edgefl
