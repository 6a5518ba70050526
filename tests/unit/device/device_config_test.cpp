// Device settings for the user's own data: a file is trained on whole unless partitions are asked
// for.
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "agent.hpp"
#include "device_config.hpp"
#include "edgefl/store/fault_file_system.hpp"

using edgefl::device::DeviceConfig;

namespace {

edgefl::Result<DeviceConfig> load(std::vector<const char*> flags) {
  flags.insert(flags.begin(), "edgefl-device");
  std::string help;
  return edgefl::device::load_device_config(static_cast<int>(flags.size()), flags.data(), &help);
}

}  // namespace

TEST_CASE("device config: file data is one partition by default, the built-in sets ten") {
  auto file = load({"--data", "csv:/data/readings.csv:label=state"});
  REQUIRE(file.ok());
  CHECK(edgefl::device::shard_spec(*file).count == 1);
  auto built_in = load({"--data", "fashion-mnist", "--partition-index", "7"});
  REQUIRE(built_in.ok());
  CHECK(edgefl::device::shard_spec(*built_in).count == 10);
  auto split =
      load({"--data", "npz:/data/images.npz", "--partition-count", "4", "--partition-index", "3"});
  REQUIRE(split.ok());
  CHECK(edgefl::device::shard_spec(*split).count == 4);
  CHECK(edgefl::device::shard_spec(*split).index == 3);

  auto beyond = load({"--data", "npy:/data/x.npy:/data/y.npy", "--partition-index", "1"});
  REQUIRE_FALSE(beyond.ok());
  CHECK(beyond.status().message().find("partition.index 1 is not below partition.count 1") !=
        std::string::npos);
  auto bad_name = load({"--data", "npz:/data/images.npz:colour=red"});
  REQUIRE_FALSE(bad_name.ok());
  CHECK(bad_name.status().message().find("colour=red") != std::string::npos);
}

TEST_CASE("device: given a file and no partition, the agent trains on every row of it") {
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("edgefl-whole-file-" + std::to_string(::getpid()) + ".csv"))
                               .string();
  {
    std::ofstream out(path);
    out << "a,b,label\n";
    for (int i = 0; i < 37; ++i) out << i << "," << 2 * i << "," << i % 3 << "\n";
  }
  edgefl::FaultFileSystem fs;
  auto whole =
      load({"--data", ("csv:" + path).c_str(), "--memory-budget", "512M", "--state-dir", "/whole"});
  REQUIRE(whole.ok());
  auto agent = edgefl::device::DeviceAgent::create(*whole, fs, [](const std::string&) {});
  REQUIRE_MESSAGE(agent.ok(), agent.status().to_string());
  CHECK((*agent)->sample_count() == 37);

  // Partitions stay available for experiments: then the device keeps its part only.
  auto half =
      load({"--data", ("csv:" + path).c_str(), "--memory-budget", "512M", "--state-dir", "/half",
            "--partition-scheme", "iid", "--partition-count", "2", "--partition-index", "1"});
  REQUIRE(half.ok());
  auto partial = edgefl::device::DeviceAgent::create(*half, fs, [](const std::string&) {});
  REQUIRE_MESSAGE(partial.ok(), partial.status().to_string());
  CHECK((*partial)->sample_count() < 37);
  CHECK((*partial)->sample_count() > 0);
  std::filesystem::remove(path);
}
