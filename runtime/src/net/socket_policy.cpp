#include "edgefl/net/socket_policy.hpp"

#include <algorithm>
#include <climits>
#include <cmath>
#include <string>

namespace edgefl {

int SocketPolicy::scaled(int base_ms) const {
  double v = std::round(static_cast<double>(base_ms) * time_scale);
  if (!(v > 0.0)) return 0;
  if (v >= static_cast<double>(INT_MAX)) return INT_MAX;
  return static_cast<int>(v);
}

int SocketPolicy::whole_seconds(int ms) {
  return std::max(1, ms / 1000 + (ms % 1000 != 0 ? 1 : 0));
}

namespace {
Status positive(const char* name, int ms) {
  if (ms > 0) return Status();
  return make_status(
      StatusCode::out_of_range,
      std::string(name) + " must be > 0 ms after time_scale, got " + std::to_string(ms));
}
}  // namespace

Status SocketPolicy::validate() const {
  if (!(time_scale > 0.0) || !std::isfinite(time_scale)) {
    return make_status(StatusCode::invalid_argument, "time_scale must be a finite number > 0");
  }
  EDGEFL_RETURN_IF_ERROR(positive("keepalive_idle", keepalive_idle_ms()));
  EDGEFL_RETURN_IF_ERROR(positive("keepalive_interval", keepalive_interval_ms()));
  EDGEFL_RETURN_IF_ERROR(positive("max_retransmit", max_retransmit_ms()));
  EDGEFL_RETURN_IF_ERROR(positive("reconnect_ivl", reconnect_ivl_ms()));
  EDGEFL_RETURN_IF_ERROR(positive("backoff_initial", backoff_initial_ms()));
  EDGEFL_RETURN_IF_ERROR(positive("handshake_ivl", handshake_ivl_ms()));
  EDGEFL_RETURN_IF_ERROR(positive("send_timeout", send_timeout_ms()));
  if (keepalive_count <= 0) {
    return make_status(StatusCode::out_of_range, "keepalive_count must be > 0");
  }
  if (reconnect_ivl_max_ms() < reconnect_ivl_ms()) {
    return make_status(StatusCode::out_of_range, "reconnect_ivl_max must be >= reconnect_ivl");
  }
  if (backoff_max_ms() < backoff_initial_ms()) {
    return make_status(StatusCode::out_of_range, "backoff_max must be >= backoff_initial");
  }
  if (linger_base_ms < 0) return make_status(StatusCode::out_of_range, "linger must be >= 0");
  if (max_message_bytes <= 0) {
    return make_status(StatusCode::out_of_range, "max_message_bytes must be > 0");
  }
  if (send_hwm <= 0 || receive_hwm <= 0) {
    return make_status(StatusCode::out_of_range, "send_hwm and receive_hwm must be > 0");
  }
  if (!(peer_messages_per_s > 0.0) || !std::isfinite(peer_messages_per_s)) {
    return make_status(StatusCode::out_of_range, "peer_messages_per_s must be a finite number > 0");
  }
  if (!(peer_burst >= 1.0) || !std::isfinite(peer_burst)) {
    return make_status(StatusCode::out_of_range, "peer_burst must be a finite number >= 1");
  }
  return Status();
}

}  // namespace edgefl
