// Device settings for the user's own data: a file is trained on whole unless partitions are asked
// for.
#include <doctest/doctest.h>

#include <string>

#include "device_config.hpp"

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
