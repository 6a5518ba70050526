// Whole-file writes that survive a crash at any moment, and size-limited whole-file reads.
//
//   EDGEFL_RETURN_IF_ERROR(edgefl::atomic_write_file("state/checkpoint.bin", bytes));
//   edgefl::Result<std::vector<std::byte>> data = edgefl::read_file("state/checkpoint.bin", 64 << 20);
//   if (!data) ...   // not_found, too_large or io_error
//
// atomic_write_file writes "<path>.tmp" in the same directory, fsyncs it, renames it over
// `path` and fsyncs the directory (PostgreSQL's durable_rename, LevelDB's SetCurrentFile):
// after a crash the file holds either the old or the new bytes, never a mix. A stray
// "<path>.tmp" left by a crash is overwritten by the next write. Used for checkpoints, the
// outbox and WAL headers. The FileSystem& overloads exist for fault tests.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "edgefl/store/file_system.hpp"
#include "edgefl/base/status.hpp"

namespace edgefl {

inline constexpr const char* kTempSuffix = ".tmp";

Status atomic_write_file(FileSystem& fs, const std::string& path, std::span<const std::byte> bytes);
Status atomic_write_file(const std::string& path, std::span<const std::byte> bytes);

// The whole file; too_large if it is bigger than max_bytes, not_found if it does not exist.
Result<std::vector<std::byte>> read_file(FileSystem& fs, const std::string& path, std::uint64_t max_bytes);
Result<std::vector<std::byte>> read_file(const std::string& path, std::uint64_t max_bytes);

}  // namespace edgefl
