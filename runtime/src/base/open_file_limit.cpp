#include "edgefl/base/open_file_limit.hpp"

#include <sys/resource.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace edgefl {

Result<uint64_t> raise_open_file_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return make_status(StatusCode::io_error,
                       std::string("getrlimit(RLIMIT_NOFILE): ") + std::strerror(errno));
  }
  if (limit.rlim_cur == limit.rlim_max) return static_cast<uint64_t>(limit.rlim_cur);
  rlimit raised = limit;
  raised.rlim_cur = limit.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &raised) != 0) {
    return make_status(StatusCode::io_error,
                       "raising the open-file limit from " + std::to_string(limit.rlim_cur) +
                           " to " + std::to_string(limit.rlim_max) + ": " + std::strerror(errno));
  }
  return static_cast<uint64_t>(raised.rlim_cur);
}

}  // namespace edgefl
