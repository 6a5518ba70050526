#include "socket_setup.hpp"

#include <cstdint>

namespace edgefl {

void set_int_option(zmq::socket_t& socket, int option, int value) {
  if (zmq_setsockopt(socket.handle(), option, &value, sizeof value) != 0) throw zmq::error_t();
}

namespace {
void set_string_option(zmq::socket_t& socket, int option, const std::string& value) {
  if (zmq_setsockopt(socket.handle(), option, value.data(), value.size()) != 0) {
    throw zmq::error_t();
  }
}
}  // namespace

void apply_socket_policy(zmq::socket_t& socket, const SocketPolicy& policy, SocketRole role) {
  // No ZMQ_HEARTBEAT_*: see SocketPolicy (libzmq 4.3.4 aborts on a heartbeat timeout of a
  // backpressured connection). The kernel watches the connection instead.
  set_int_option(socket, ZMQ_TCP_KEEPALIVE, 1);
  set_int_option(socket, ZMQ_TCP_KEEPALIVE_IDLE,
                 SocketPolicy::whole_seconds(policy.keepalive_idle_ms()));
  set_int_option(socket, ZMQ_TCP_KEEPALIVE_INTVL,
                 SocketPolicy::whole_seconds(policy.keepalive_interval_ms()));
  set_int_option(socket, ZMQ_TCP_KEEPALIVE_CNT, policy.keepalive_count);
  set_int_option(socket, ZMQ_TCP_MAXRT, policy.max_retransmit_ms());
  int64_t max_size = policy.max_message_bytes;
  if (zmq_setsockopt(socket.handle(), ZMQ_MAXMSGSIZE, &max_size, sizeof max_size) != 0) {
    throw zmq::error_t();
  }
  set_int_option(socket, ZMQ_SNDHWM, policy.send_hwm);
  set_int_option(socket, ZMQ_RCVHWM, policy.receive_hwm);
  set_int_option(socket, ZMQ_LINGER, policy.linger_ms());
  set_int_option(socket, ZMQ_SNDTIMEO, policy.send_timeout_ms());
  set_int_option(socket, ZMQ_HANDSHAKE_IVL, policy.handshake_ivl_ms());
  set_int_option(socket, ZMQ_RECONNECT_IVL, policy.reconnect_ivl_ms());
  set_int_option(socket, ZMQ_RECONNECT_IVL_MAX, policy.reconnect_ivl_max_ms());
  if (role == SocketRole::device) {
    set_int_option(socket, ZMQ_IMMEDIATE, 1);
  } else {
    set_int_option(socket, ZMQ_ROUTER_MANDATORY, 1);
  }
}

void apply_curve_server(zmq::socket_t& socket, const CurveKeyPair& server_keys) {
  set_int_option(socket, ZMQ_CURVE_SERVER, 1);
  set_string_option(socket, ZMQ_CURVE_SECRETKEY, server_keys.secret_z85);
  set_string_option(socket, ZMQ_ZAP_DOMAIN, kZapDomain);
  set_int_option(socket, kZapEnforceDomainOption, 1);
}

void apply_curve_client(zmq::socket_t& socket, const CurveKeyPair& device_keys,
                        const std::string& server_public_z85) {
  set_string_option(socket, ZMQ_CURVE_SERVERKEY, server_public_z85);
  set_string_option(socket, ZMQ_CURVE_PUBLICKEY, device_keys.public_z85);
  set_string_option(socket, ZMQ_CURVE_SECRETKEY, device_keys.secret_z85);
}

}  // namespace edgefl
