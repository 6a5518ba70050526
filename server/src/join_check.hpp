// JoinCheck: what a Join must satisfy before the device is registered — an id that is safe
// to store and print, declared sizes within sane bounds, the run's upload codec among the
// device's codecs (failed_precondition otherwise), and a memory budget that can hold this
// run's training (resource_exhausted otherwise: the device cannot ever train this model),
// planned with the backend, data and process sizes the device declares in its Join.
//
//   JoinCheck check(config, spec);
//   Status ok = check.check(id, join.capabilities);
#pragma once

#include <string>

#include "edgefl/proto/messages.hpp"
#include "edgefl/base/model_spec.hpp"
#include "edgefl/base/status.hpp"
#include "server_config.hpp"

namespace edgefl::server {

// Longest device id the server stores (a CURVE key in Z85 is 40 characters).
inline constexpr std::size_t kMaxDeviceIdBytes = 64;
// Most local samples a device may declare: 2^40 (a trillion; far past any edge device).
inline constexpr uint64_t kMaxDeclaredSamples = uint64_t{1} << 40;
inline constexpr uint64_t kMaxDeclaredBytes = uint64_t{1} << 50;

// invalid_argument unless `id` is 1..kMaxDeviceIdBytes printable ASCII characters (no spaces
// or control characters: ids go into logs and file names as they are).
Status check_device_id(const std::string& id);

class JoinCheck {
 public:
  JoinCheck(const ServerConfig& config, const ModelSpec& spec) : config_(&config), spec_(&spec) {}
  Status check(const std::string& id, const Capabilities& capabilities) const;

 private:
  // failed_precondition when the run's upload codec is not among the device's codecs.
  Status check_codec(const Capabilities& capabilities) const;
  Status check_fits(const Capabilities& capabilities) const;

  const ServerConfig* config_;
  const ModelSpec* spec_;
};

}  // namespace edgefl::server
