// UniqueFd: owns one POSIX file descriptor and closes it exactly once. Move-only, so an
// owner can be returned or stored without a second close of the same number.
//
//   edgefl::UniqueFd fd(::open(path, O_RDONLY | O_CLOEXEC));
//   if (!fd.valid()) return error(errno);
//   ::read(fd.get(), buffer, size);
//   if (fd.close() != 0) return error(errno);   // optional: the destructor closes too
#pragma once

#include <unistd.h>

#include <utility>

namespace edgefl {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { (void)close(); }
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      (void)close();
      fd_ = other.release();
    }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  bool valid() const { return fd_ >= 0; }
  int get() const { return fd_; }
  // Gives up ownership: the caller closes the returned descriptor.
  int release() { return std::exchange(fd_, -1); }
  // Closes now, for callers that check the result (close can report a failed write-back):
  // ::close's return value, 0 when nothing was open.
  int close() {
    const int fd = release();
    return fd >= 0 ? ::close(fd) : 0;
  }

 private:
  int fd_ = -1;
};

}  // namespace edgefl
