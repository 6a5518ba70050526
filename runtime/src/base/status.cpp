#include "edgefl/base/status.hpp"

#include <cstdio>
#include <cstdlib>

namespace edgefl {

std::string_view status_code_name(StatusCode code) {
  switch (code) {
    case StatusCode::ok: return "ok";
    case StatusCode::invalid_argument: return "invalid_argument";
    case StatusCode::not_found: return "not_found";
    case StatusCode::io_error: return "io_error";
    case StatusCode::corrupt: return "corrupt";
    case StatusCode::truncated: return "truncated";
    case StatusCode::too_large: return "too_large";
    case StatusCode::misaligned: return "misaligned";
    case StatusCode::version_mismatch: return "version_mismatch";
    case StatusCode::shape_mismatch: return "shape_mismatch";
    case StatusCode::non_finite: return "non_finite";
    case StatusCode::unknown_enum: return "unknown_enum";
    case StatusCode::out_of_range: return "out_of_range";
    case StatusCode::unavailable: return "unavailable";
    case StatusCode::timeout: return "timeout";
    case StatusCode::unauthenticated: return "unauthenticated";
    case StatusCode::resource_exhausted: return "resource_exhausted";
    case StatusCode::duplicate: return "duplicate";
    case StatusCode::stale: return "stale";
    case StatusCode::failed_precondition: return "failed_precondition";
    case StatusCode::internal: return "internal";
    case StatusCode::cancelled: return "cancelled";
    case StatusCode::norm_exceeded: return "norm_exceeded";
    case StatusCode::unknown_device: return "unknown_device";
  }
  return "unknown_status_code";
}

std::string Status::to_string() const {
  if (ok()) return "ok";
  std::string out(status_code_name(code_));
  if (!message_.empty()) {
    out += ": ";
    out += message_;
  }
  return out;
}

Status Status::with_context(std::string_view context) const {
  if (ok()) return *this;
  std::string message(context);
  message += ": ";
  message += message_;
  return Status(code_, std::move(message));
}

void abort_on_error(const Status& status, const char* what) {
  std::fprintf(stderr, "%s: %s\n", what, status.to_string().c_str());
  std::abort();
}

}  // namespace edgefl
