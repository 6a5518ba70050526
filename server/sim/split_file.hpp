// The training-set split of a simulation, written for other programs: one JSON line per device,
//   {"device":0,"scheme":"dirichlet","rows":[12,40,...]}
// with the sorted training-set rows that device trains on (exactly what its load_shard keeps).
// bench/fedavg_quality's PyTorch baseline reads it to train on the same rows.
#pragma once

#include <cstdint>
#include <string>

#include "edgefl/data/data_source.hpp"
#include "edgefl/base/status.hpp"

namespace edgefl::sim {

// `shard` is every device's spec but for index; count is the number of devices.
Status write_split_file(const std::string& path, const DataSource& source, ShardSpec shard);

}  // namespace edgefl::sim
