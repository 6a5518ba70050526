#include "file_bytes.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "edgefl/base/unique_fd.hpp"

namespace edgefl {

Result<std::vector<uint8_t>> read_file_bytes(const std::string& path, std::size_t max_bytes) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    const int error = errno;
    return make_status(error == ENOENT ? StatusCode::not_found : StatusCode::io_error,
                       path + ": cannot open: " + std::strerror(error));
  }
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0)
    return make_status(StatusCode::io_error, path + ": cannot stat");
  if (!S_ISREG(info.st_mode))
    return make_status(StatusCode::invalid_argument, path + ": not a regular file");
  if (static_cast<uint64_t>(info.st_size) > max_bytes) {
    return make_status(StatusCode::too_large, path + ": " + std::to_string(info.st_size) +
                                                  " bytes, more than the limit of " +
                                                  std::to_string(max_bytes));
  }
  std::vector<uint8_t> bytes(static_cast<std::size_t>(info.st_size));
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::read(fd.get(), bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0)
      return make_status(StatusCode::io_error, path + ": read failed: " + std::strerror(errno));
    if (n == 0) return make_status(StatusCode::truncated, path + ": shrank while being read");
    done += static_cast<std::size_t>(n);
  }
  return bytes;
}

}  // namespace edgefl
