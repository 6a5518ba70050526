// Where the status endpoint listens, and whether its security settings allow that.
//
//   Result<StatusListen> listen = parse_status_listen("127.0.0.1:9464");
//   EDGEFL_RETURN_IF_ERROR(check_status_security(config.status, config.insecure));
//
// Beyond loopback the endpoint exposes the fleet to the network: it needs TLS and a bearer
// token, or an explicit --insecure. It fails closed: the server refuses to start.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "edgefl/base/status.hpp"
#include "server_config.hpp"

namespace edgefl::server {

struct StatusListen {
  std::string host;   // an IPv4 address or host name (IPv6 in brackets: [::1])
  uint16_t port = 0;  // 0: any free port
  bool loopback = false;
};

Result<StatusListen> parse_status_listen(std::string_view text);

// invalid_argument when the status settings do not go together or, beyond loopback, lack TLS
// or a token without `insecure`. OK when the endpoint is off.
Status check_status_security(const StatusConfig& status, bool insecure);

}  // namespace edgefl::server
