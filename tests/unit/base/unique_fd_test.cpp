#include <doctest/doctest.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <type_traits>
#include <utility>

#include "edgefl/base/unique_fd.hpp"

using edgefl::UniqueFd;

namespace {

bool is_open(int fd) { return ::fcntl(fd, F_GETFD) != -1 || errno != EBADF; }

}  // namespace

// A copy would close the same number twice (the second close may hit another file's reuse).
static_assert(!std::is_copy_constructible_v<UniqueFd> && !std::is_copy_assignable_v<UniqueFd>);

TEST_CASE("unique fd: closes once, on destruction, and ownership moves") {
  int number = -1;
  {
    UniqueFd first(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    REQUIRE(first.valid());
    number = first.get();
    UniqueFd second(std::move(first));
    CHECK_FALSE(first.valid());
    CHECK(second.get() == number);
    CHECK(is_open(number));
  }
  CHECK_FALSE(is_open(number));
}

TEST_CASE("unique fd: move assignment closes the old descriptor, close() reports and empties") {
  UniqueFd a(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  UniqueFd b(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  REQUIRE((a.valid() && b.valid()));
  const int old = a.get();
  const int kept = b.get();
  a = std::move(b);
  CHECK_FALSE(is_open(old));
  CHECK(a.get() == kept);
  CHECK(a.close() == 0);
  CHECK_FALSE(a.valid());
  CHECK(a.close() == 0);  // nothing left to close
  CHECK_FALSE(is_open(kept));
}

TEST_CASE("unique fd: release hands the descriptor over without closing it") {
  UniqueFd a(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  const int fd = a.release();
  CHECK_FALSE(a.valid());
  CHECK(is_open(fd));
  ::close(fd);
}
