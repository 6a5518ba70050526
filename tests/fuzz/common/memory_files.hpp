// Puts fuzz bytes into an in-memory file system (edgefl::FaultFileSystem, no faults planned):
// the store fuzz targets read them back through the real FileSystem interface, with no disk.
#pragma once

#include <cstdlib>
#include <span>
#include <string>

#include "edgefl/store/fault_file_system.hpp"

namespace edgefl::fuzz {

inline void put_file(FaultFileSystem& fs, const std::string& dir, const std::string& path,
                     std::span<const std::byte> bytes) {
  if (!fs.create_dir(dir).ok()) std::abort();
  auto file = fs.new_writable(path);
  if (!file.ok() || !(*file)->append(bytes).ok() || !(*file)->sync().ok() || !(*file)->close().ok() ||
      !fs.sync_dir(dir).ok()) {
    std::abort();  // the in-memory file system has no reason to fail
  }
}

}  // namespace edgefl::fuzz
