#include "shared_data.hpp"

namespace edgefl::sim {

Result<device::SharedSamples> SharedData::samples_for(const device::DeviceConfig& config) {
  const ShardSpec shard = device::shard_spec(config);
  const std::string source_key = config.data + '\n' + config.data_dir;
  const std::string split_key =
      source_key + '\n' + shard.scheme + '\n' + std::to_string(shard.count) + '\n' +
      std::to_string(shard.alpha) + '\n' + std::to_string(shard.shards_per_client) + '\n' +
      std::to_string(shard.seed) + '\n' + std::to_string(shard.max_samples);
  if (shard.index >= shard.count) {
    return make_status(StatusCode::invalid_argument,
                       "partition index " + std::to_string(shard.index) +
                           " is not below the partition count " + std::to_string(shard.count));
  }
  std::lock_guard<std::mutex> lock(mutex_);
  auto split = splits_.find(split_key);
  if (split == splits_.end()) {
    Result<DataSource> source = DataSource::parse(config.data, config.data_dir);
    if (!source) return source.status();
    std::shared_ptr<const Dataset>& dataset = datasets_[source_key];
    if (dataset == nullptr) {
      Result<Dataset> train = source->load_train();
      if (!train) {
        datasets_.erase(source_key);
        return train.status().with_context("loading local data");
      }
      dataset = std::make_shared<const Dataset>(std::move(*train));
    }
    Result<std::vector<std::vector<uint32_t>>> rows = source->partition_rows(*dataset, shard);
    if (!rows) return rows.status().with_context("loading local data");
    split = splits_.emplace(split_key, Split{dataset, std::move(*rows)}).first;
  }
  return device::SharedSamples{split->second.dataset, split->second.rows[shard.index]};
}

std::size_t SharedData::datasets() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return datasets_.size();
}

}  // namespace edgefl::sim
