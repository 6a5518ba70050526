// The one place that turns a SocketPolicy (and CURVE keys) into ZeroMQ socket options.
// These functions throw zmq::error_t; the transports call them inside their try blocks.
#pragma once

#include <string>

#include <zmq.hpp>

#include "edgefl/net/curve.hpp"
#include "edgefl/net/socket_policy.hpp"

namespace edgefl {

enum class SocketRole { server, device };

// ZMQ_ZAP_ENFORCE_DOMAIN is a DRAFT name in Debian's libzmq 4.3.4 headers, but the library
// honours option 93 in every build: with it, a CURVE handshake fails when no ZAP handler answers.
inline constexpr int kZapEnforceDomainOption = 93;
inline constexpr const char* kZapDomain = "edgefl";

void set_int_option(zmq::socket_t& socket, int option, int value);

// TCP keepalive and retransmit limit, MAXMSGSIZE, HWMs, linger, send timeout, handshake limit, reconnect interval and
// max; IMMEDIATE=1 on devices (a message waits in our queue until a connection exists) and
// ROUTER_MANDATORY=1 on the server (an unroutable send is an error, not a silent drop).
void apply_socket_policy(zmq::socket_t& socket, const SocketPolicy& policy, SocketRole role);

// CURVE server + ZAP domain + enforce: no handler means no connection.
void apply_curve_server(zmq::socket_t& socket, const CurveKeyPair& server_keys);
void apply_curve_client(zmq::socket_t& socket, const CurveKeyPair& device_keys,
                        const std::string& server_public_z85);

}  // namespace edgefl
