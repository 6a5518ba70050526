// NetContext: owns the ZeroMQ context every socket of a process lives in (no global context).
//
//   auto ctx = edgefl::NetContext::create();
//   if (!ctx) return ctx.status();
//   auto zap = edgefl::ZapAuthenticator::start(**ctx, allowed_keys);
//   auto server = edgefl::ServerTransport::bind(**ctx, "tcp://0.0.0.0:5555", policy, security);
//
// Destroy transports and the ZapAuthenticator before their NetContext: terminating a context
// waits for its sockets.
#pragma once

#include <memory>

#include "edgefl/base/status.hpp"

namespace edgefl {

class NetContext {
 public:
  struct Impl;  // the zmq::context_t, private to runtime/src/net

  // max_sockets: ZeroMQ sockets the context may hold (0: libzmq's default, 1023). A process
  // with many device transports needs more: each is one socket, two more with a link monitor.
  static Result<std::unique_ptr<NetContext>> create(int io_threads = 1, int max_sockets = 0);
  ~NetContext();
  NetContext(const NetContext&) = delete;
  NetContext& operator=(const NetContext&) = delete;

  Impl& impl() { return *impl_; }

 private:
  explicit NetContext(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace edgefl
