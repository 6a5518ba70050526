// The link to an upstream server as edgefl-device and a relay (edgefl-server --upstream) open
// it: CURVE keys from files, and a factory of fresh links for UpstreamSession::run.
//
//   Result<DeviceSecurity> security = load_upstream_security(secret_key_file, server_key_file);
//   ChannelFactory connect = upstream_channel_factory(context, endpoint, policy, *security);
#pragma once

#include <string>

#include "edgefl/net/net_context.hpp"
#include "edgefl/net/zmq_transport.hpp"
#include "upstream_session.hpp"

namespace edgefl::device {

// What a Join says of the machine: "aarch64", "armv7l", "x86_64" (else "unknown").
std::string host_arch();

// Plaintext when secret_key_file is empty; else this side's key pair and the server's public
// key (both files must be readable), errors naming the file.
Result<DeviceSecurity> load_upstream_security(const std::string& secret_key_file,
                                              const std::string& server_key_file);

// Each call connects a new DeviceTransport; `context` outlives the factory.
ChannelFactory upstream_channel_factory(NetContext& context, std::string endpoint,
                                        SocketPolicy policy, DeviceSecurity security);

}  // namespace edgefl::device
