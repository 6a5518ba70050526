// A TOML document as both programs' configuration file: applying it must return a status
// (unknown keys, wrong types and syntax errors included), and whatever applies must validate
// or be refused with a status.
#include <cstdlib>
#include <string_view>

#include "device_config.hpp"
#include "edgefl/config/option_table.hpp"
#include "fuzz_entry.hpp"
#include "server_config.hpp"

namespace edgefl::fuzz {
namespace {

template <typename Config, typename Bind, typename Validate>
void apply_and_validate(std::string_view toml, Bind bind, Validate validate) {
  Config config;
  OptionTable table;
  bind(config, table);
  Status applied = table.apply_toml(toml, "fuzz.toml");
  if (!applied.ok()) {
    if (applied.message().find("fuzz.toml") == std::string::npos) std::abort();  // names the file
    return;
  }
  (void)validate(config);
}

}  // namespace

int run_one(const uint8_t* data, std::size_t size) {
  const std::string_view toml(reinterpret_cast<const char*>(data), size);
  apply_and_validate<server::ServerConfig>(toml, server::bind_server_options, server::validate_server_config);
  apply_and_validate<device::DeviceConfig>(toml, device::bind_device_options, device::validate_device_config);
  return 0;
}

}  // namespace edgefl::fuzz
