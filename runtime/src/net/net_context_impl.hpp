// The private side of NetContext: the zmq context and a counter for unique inproc names.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include <zmq.hpp>

#include "edgefl/net/net_context.hpp"

namespace edgefl {

struct NetContext::Impl {
  explicit Impl(int io_threads) : zmq(io_threads) {}
  zmq::context_t zmq;
  std::atomic<uint64_t> next_id{0};

  // "inproc://edgefl-<what>-<n>", unique within this context.
  std::string unique_inproc(const char* what) {
    return std::string("inproc://edgefl-") + what + "-" + std::to_string(next_id++);
  }
};

}  // namespace edgefl
