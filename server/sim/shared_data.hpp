// SharedData: the simulated devices' training data, loaded once per process. Each data source
// is read (and decompressed) once and each split computed once; a device gets its partition's
// rows of the shared dataset (agent.hpp's SharedSamples), nothing copied per device.
//
//   SharedData data;
//   Result<device::SharedSamples> samples = data.samples_for(device_config);  // thread-safe
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "agent.hpp"
#include "device_config.hpp"

namespace edgefl::sim {

class SharedData {
 public:
  // The rows of config's partition (data, data_dir, partition.*, max_samples) of the shared
  // training set; the same errors as a device loading its own shard.
  Result<device::SharedSamples> samples_for(const device::DeviceConfig& config);
  // Training sets held (one per distinct data source).
  std::size_t datasets() const;

 private:
  struct Split {
    std::shared_ptr<const Dataset> dataset;
    std::vector<std::vector<uint32_t>> rows;  // per partition
  };

  mutable std::mutex mutex_;  // held while loading: other devices wait for the same data
  std::map<std::string, std::shared_ptr<const Dataset>> datasets_;  // by source
  std::map<std::string, Split> splits_;                             // by source and split
};

}  // namespace edgefl::sim
