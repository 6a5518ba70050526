#include "edgefl/net/net_context.hpp"

#include "net_context_impl.hpp"
#include "zmq_status.hpp"

namespace edgefl {

Result<std::unique_ptr<NetContext>> NetContext::create(int io_threads) {
  if (io_threads < 1) return make_status(StatusCode::invalid_argument, "io_threads must be >= 1");
  try {
    return std::unique_ptr<NetContext>(new NetContext(std::make_unique<Impl>(io_threads)));
  } catch (const zmq::error_t& e) {
    return status_from_zmq(e, "creating the ZeroMQ context");
  }
}

NetContext::NetContext(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
NetContext::~NetContext() = default;

}  // namespace edgefl
