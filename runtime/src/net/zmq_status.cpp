#include "zmq_status.hpp"

#include <cerrno>
#include <string>

namespace edgefl {

namespace {
StatusCode code_for(int err) {
  switch (err) {
    case EAGAIN:
    case EHOSTUNREACH:
    case ECONNREFUSED:
      return StatusCode::unavailable;
    case ETERM:
    case EINTR:
      return StatusCode::cancelled;
    case EINVAL:
    case EPROTONOSUPPORT:
    case ENOCOMPATPROTO:
    case ENODEV:
      return StatusCode::invalid_argument;
    case EMSGSIZE:
      return StatusCode::too_large;
    case EMTHREAD:
    case EMFILE:
    case ENOMEM:
      return StatusCode::resource_exhausted;
    default:
      return StatusCode::io_error;
  }
}
}  // namespace

Status status_from_errno(int err, std::string_view doing) {
  std::string message(doing);
  message += ": ";
  message += zmq_strerror(err);
  return Status(code_for(err), std::move(message));
}

}  // namespace edgefl
