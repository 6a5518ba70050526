#include "split_file.hpp"

#include <cstddef>
#include <span>
#include <vector>

#include "edgefl/store/atomic_file.hpp"
#include "edgefl/base/json_line.hpp"

namespace edgefl::sim {

Status write_split_file(const std::string& path, const DataSource& source, ShardSpec shard) {
  std::string text;
  for (uint32_t device = 0; device < shard.count; ++device) {
    shard.index = device;
    Result<std::vector<uint32_t>> rows = source.shard_rows(shard);
    if (!rows) return rows.status().with_context("split of device " + std::to_string(device));
    JsonLine line;
    line.add("device", device).add("scheme", shard.scheme).add("rows", std::span<const uint32_t>(*rows));
    text += line.str();
    text += '\n';
  }
  Status written = atomic_write_file(path, std::as_bytes(std::span<const char>(text)));
  if (!written.ok()) return written.with_context("--write-split");
  return Status();
}

}  // namespace edgefl::sim
