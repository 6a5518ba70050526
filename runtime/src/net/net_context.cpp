#include "edgefl/net/net_context.hpp"

#include "net_context_impl.hpp"
#include "zmq_status.hpp"

namespace edgefl {

Result<std::unique_ptr<NetContext>> NetContext::create(int io_threads, int max_sockets) {
  if (io_threads < 1) return make_status(StatusCode::invalid_argument, "io_threads must be >= 1");
  if (max_sockets < 0) return make_status(StatusCode::invalid_argument, "max_sockets must be >= 0");
  try {
    auto impl = std::make_unique<Impl>(io_threads);
    // Before any socket exists: libzmq sizes its socket table from it.
    if (max_sockets > 0 && zmq_ctx_set(impl->zmq.handle(), ZMQ_MAX_SOCKETS, max_sockets) != 0) {
      return make_status(StatusCode::invalid_argument,
                         "ZeroMQ refused a limit of " + std::to_string(max_sockets) + " sockets");
    }
    return std::unique_ptr<NetContext>(new NetContext(std::move(impl)));
  } catch (const zmq::error_t& e) {
    return status_from_zmq(e, "creating the ZeroMQ context");
  }
}

NetContext::NetContext(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
NetContext::~NetContext() = default;

}  // namespace edgefl
