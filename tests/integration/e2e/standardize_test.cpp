// Acceptance of federated standardisation: real server and device code over loopback ZeroMQ,
// three devices holding shards of different sizes of one sensor table.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <random>

#include "e2e_configs.hpp"
#include "e2e_support.hpp"
#include "temp_dir.hpp"

using namespace edgefl;
using namespace edgefl::testing;
using namespace std::chrono_literals;

namespace {

// 900 rows: a reading far from zero, a small one, a constant one, and a class label.
void write_sensor_table(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "w");
  REQUIRE(f != nullptr);
  std::mt19937 rng(11);
  std::normal_distribution<double> normal;
  std::fprintf(f, "pressure,humidity,unit,label\n");
  for (int i = 0; i < 900; ++i) {
    const int label = static_cast<int>(rng() % 3);
    std::fprintf(f, "%.3f,%.5f,7,%d\n", 20000.0 + 30.0 * label + 3.0 * normal(rng),
                 0.4 + 0.05 * normal(rng), label);
  }
  std::fclose(f);
}

double relative(long double got, long double want) {
  return static_cast<double>(std::fabs(got - want) / std::fabs(want));
}

}  // namespace

TEST_CASE(
    "e2e: federated standardisation over 3 devices of different sizes equals the pooled "
    "statistics") {
  TempDir dir;
  const std::string table = "csv:" + dir.file("sensors.csv");
  write_sensor_table(dir.file("sensors.csv"));
  sim::SimulationOptions o = blobs_cluster(dir.path(), 3, 2);
  o.server.model = "mlp:3-8-3:relu";
  o.server.data = table;
  o.server.standardize.mode = "federated";
  o.device.data = table;
  o.device.partition = "iid";
  // Shards of 100, 200 and 300 rows of the 900.
  o.configure_device = [](uint32_t index, device::DeviceConfig& config) {
    config.max_samples = 100 * (index + 1);
  };
  Result<std::unique_ptr<sim::Simulation>> simulation = sim::Simulation::start(o);
  REQUIRE_MESSAGE(simulation.ok(), simulation.status().to_string());
  Status end = (*simulation)->wait_server(30s);
  REQUIRE_MESSAGE(end.ok(), end.to_string());

  Standardization got;
  std::vector<server::RoundMetrics> history;
  (*simulation)->inspect([&](const server::Coordinator& c) {
    got = c.standardization();
    history = c.history();
  });
  REQUIRE(history.size() == 2);
  CHECK(history[1].answered == 3);

  // The oracle: two passes in long double over every device's shard, as the devices load them.
  Result<DataSource> source = DataSource::parse(table);
  REQUIRE(source.ok());
  std::vector<Dataset> shards;
  for (uint32_t i = 0; i < 3; ++i) {
    device::DeviceConfig config = o.device;  // as the simulation configures device i
    o.configure_device(i, config);
    config.partitions = 3;
    config.partition_index = i;
    Result<Shard> shard = source->load_shard(device::shard_spec(config));
    REQUIRE(shard.ok());
    shards.push_back(std::move(shard->data));
  }
  CHECK(shards[0].size() != shards[1].size());
  CHECK(shards[1].size() != shards[2].size());
  CHECK(shards[0].size() != shards[2].size());
  long double n = 0;
  std::vector<long double> mean(3, 0), m2(3, 0);
  for (const Dataset& shard : shards) {
    for (std::size_t i = 0; i < shard.size(); ++i) {
      n += 1;
      for (std::size_t j = 0; j < 3; ++j) mean[j] += shard.loaded_feature(i, j);
    }
  }
  CHECK(n == 600);
  for (auto& m : mean) m /= n;
  for (const Dataset& shard : shards) {
    for (std::size_t i = 0; i < shard.size(); ++i) {
      for (std::size_t j = 0; j < 3; ++j)
        m2[j] += std::pow(shard.loaded_feature(i, j) - mean[j], 2);
    }
  }
  REQUIRE(got.mean.size() == 3);
  for (std::size_t j = 0; j < 3; ++j) CHECK(relative(got.mean[j], mean[j]) < 1e-6);
  CHECK(relative(got.deviation[0], std::sqrt(m2[0] / n)) < 1e-6);
  CHECK(relative(got.deviation[1], std::sqrt(m2[1] / n)) < 1e-6);
  CHECK(got.deviation[2] == 1.0);  // the constant column is centred, not scaled
}
