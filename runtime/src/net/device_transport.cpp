#include "edgefl/net/zmq_transport.hpp"
#include "net_context_impl.hpp"
#include "socket_io.hpp"
#include "socket_monitor.hpp"
#include "socket_setup.hpp"
#include "zmq_status.hpp"

namespace edgefl {

struct DeviceTransport::Impl {
  Impl(NetContext::Impl& ctx) : socket(ctx.zmq, zmq::socket_type::dealer) {}
  zmq::socket_t socket;
  std::unique_ptr<SocketMonitor> monitor;  // declared after the socket: destroyed before it
  int send_timeout_ms = 0;
};

namespace {
Status check_device_security(const DeviceSecurity& security) {
  if (!security.curve) return Status();
  EDGEFL_RETURN_IF_ERROR(
      check_z85_key(security.curve->public_z85).with_context("device public key"));
  EDGEFL_RETURN_IF_ERROR(
      check_z85_key(security.curve->secret_z85).with_context("device secret key"));
  EDGEFL_RETURN_IF_ERROR(
      check_z85_key(security.server_public_z85).with_context("server public key"));
  if (zmq_has("curve") == 0) {
    return make_status(StatusCode::failed_precondition, "libzmq was built without CURVE");
  }
  return Status();
}
}  // namespace

Result<std::unique_ptr<DeviceTransport>> DeviceTransport::connect(NetContext& ctx,
                                                                  const std::string& endpoint,
                                                                  const SocketPolicy& policy,
                                                                  const DeviceSecurity& security) {
  EDGEFL_RETURN_IF_ERROR(policy.validate().with_context("socket policy"));
  EDGEFL_RETURN_IF_ERROR(check_device_security(security));
  try {
    auto impl = std::make_unique<Impl>(ctx.impl());
    apply_socket_policy(impl->socket, policy, SocketRole::device);
    if (security.curve) {
      apply_curve_client(impl->socket, *security.curve, security.server_public_z85);
    }
    impl->send_timeout_ms = policy.send_timeout_ms();
    if (policy.link_events)
      impl->monitor = std::make_unique<SocketMonitor>(ctx.impl(), impl->socket);
    impl->socket.connect(endpoint);
    return std::unique_ptr<DeviceTransport>(new DeviceTransport(std::move(impl)));
  } catch (const zmq::error_t& e) {
    return status_from_zmq(e, "connecting device to '" + endpoint + "'");
  }
}

DeviceTransport::DeviceTransport(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DeviceTransport::~DeviceTransport() = default;

Status DeviceTransport::send(ByteView message) {
  try {
    zmq::message_t body(message.data(), message.size());
    // IMMEDIATE=1: with no completed connection this blocks up to the send timeout.
    if (!impl_->socket.send(body, zmq::send_flags::none)) {
      return make_status(StatusCode::unavailable,
                         "no connection to the server took the message within " +
                             std::to_string(impl_->send_timeout_ms) + " ms");
    }
    return Status();
  } catch (const zmq::error_t& e) {
    return status_from_zmq(e, "sending to server");
  }
}

Result<std::optional<Bytes>> DeviceTransport::receive(std::chrono::milliseconds timeout) {
  try {
    if (impl_->monitor)
      impl_->monitor->collect();  // see SocketMonitor: libzmq stalls when its events pile up
    auto frames = receive_message(impl_->socket, timeout, 1);
    if (!frames) return std::optional<Bytes>();
    return std::optional<Bytes>(frame_bytes((*frames)[0]));
  } catch (const zmq::error_t& e) {
    return status_from_zmq(e, "receiving at device");
  }
}

std::vector<LinkEvent> DeviceTransport::poll_events(std::chrono::milliseconds wait) {
  try {
    if (!impl_->monitor) return {};  // link_events off
    return impl_->monitor->drain(wait);
  } catch (const zmq::error_t&) {
    return {};  // a monitor failure loses hints, never messages
  }
}

}  // namespace edgefl
