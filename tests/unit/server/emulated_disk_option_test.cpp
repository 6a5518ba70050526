// edgefl-server --emulate-disk-mbps: a rate in MB/s becomes bytes per second; anything but one
// number > 0 is refused at start, naming the option (an explicit 0 does not mean "off").
#include <doctest/doctest.h>

#include "server_config.hpp"

namespace edgefl::testing {
namespace {

Result<server::ServerConfig> with_rate(const char* rate) {
  const char* argv[] = {"edgefl-server",       "--model", "linear:4-1", "--data", "none",
                        "--emulate-disk-mbps", rate};
  std::string help;
  return server::load_server_config(7, argv, &help);
}

TEST_CASE("server config: emulate_disk_mbps is off unless given, MB/s when given") {
  server::ServerConfig defaults;
  CHECK_FALSE(server::emulated_disk_bytes_per_second(defaults).value().has_value());
  Result<server::ServerConfig> config = with_rate("40");
  REQUIRE(config.ok());
  CHECK(server::emulated_disk_bytes_per_second(*config).value() == std::optional<double>(40e6));
}

TEST_CASE("server config: emulate_disk_mbps of 0, below 0, NaN, text or a list is refused") {
  for (const char* bad : {"0", "-40", "nan", "inf", "fast", "40,80"}) {
    INFO(bad);
    Result<server::ServerConfig> config = with_rate(bad);
    REQUIRE_FALSE(config.ok());
    CHECK(config.status().code() == StatusCode::invalid_argument);
    CHECK(config.status().message().find("emulate_disk_mbps") != std::string::npos);
  }
}

}  // namespace
}  // namespace edgefl::testing
