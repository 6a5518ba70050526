#include "upstream_link.hpp"

#include "edgefl/net/curve.hpp"

namespace edgefl::device {

std::string host_arch() {
#if defined(__aarch64__)
  return "aarch64";
#elif defined(__arm__)
  return "armv7l";
#elif defined(__x86_64__)
  return "x86_64";
#else
  return "unknown";
#endif
}

Result<DeviceSecurity> load_upstream_security(const std::string& secret_key_file,
                                              const std::string& server_key_file) {
  DeviceSecurity security;
  if (secret_key_file.empty()) return security;
  Result<CurveKeyPair> keys = load_curve_keypair(secret_key_file);
  if (!keys) return keys.status();
  Result<std::string> server_key = load_public_key(server_key_file);
  if (!server_key) return server_key.status();
  security.curve = *keys;
  security.server_public_z85 = *server_key;
  return security;
}

ChannelFactory upstream_channel_factory(NetContext& context, std::string endpoint,
                                        SocketPolicy policy, DeviceSecurity security) {
  return [&context, endpoint = std::move(endpoint), policy,
          security = std::move(security)]() -> Result<std::unique_ptr<DeviceChannel>> {
    Result<std::unique_ptr<DeviceTransport>> transport =
        DeviceTransport::connect(context, endpoint, policy, security);
    if (!transport) return transport.status();
    return std::unique_ptr<DeviceChannel>(std::move(*transport));
  };
}

}  // namespace edgefl::device
