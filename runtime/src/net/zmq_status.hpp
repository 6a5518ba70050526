// cppzmq throws zmq::error_t; this turns one into the Status net's API returns.
#pragma once

#include <string_view>

#include <zmq.hpp>

#include "edgefl/base/status.hpp"

namespace edgefl {

Status status_from_errno(int err, std::string_view doing);
inline Status status_from_zmq(const zmq::error_t& e, std::string_view doing) {
  return status_from_errno(e.num(), doing);
}

}  // namespace edgefl
