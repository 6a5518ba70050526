#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>

#include "edgefl/base/status.hpp"

using edgefl::Result;
using edgefl::Status;
using edgefl::StatusCode;

namespace {

Result<int> parse_positive(int value) {
  if (value <= 0) return Status(StatusCode::out_of_range, "value must be positive");
  return value;
}

Status chain(int value) {
  Result<int> parsed = parse_positive(value);
  if (!parsed) return parsed.status().with_context("reading setting");
  return Status();
}

}  // namespace

TEST_CASE("status: ok is the default and prints as ok") {
  Status status;
  CHECK(status.ok());
  CHECK(status.to_string() == "ok");
}

TEST_CASE("status: errors carry code, message and context") {
  Status status = chain(-1);
  CHECK_FALSE(status.ok());
  CHECK(status.code() == StatusCode::out_of_range);
  CHECK(status.to_string() == "out_of_range: reading setting: value must be positive");
  CHECK(chain(3).ok());
}

TEST_CASE("status: every code has a distinct stable name") {
  CHECK(edgefl::status_code_name(StatusCode::shape_mismatch) == "shape_mismatch");
  CHECK(edgefl::status_code_name(StatusCode::non_finite) == "non_finite");
  CHECK(edgefl::status_code_name(static_cast<StatusCode>(999)) == "unknown_status_code");
}

TEST_CASE("result: holds a value or a status") {
  Result<int> good = parse_positive(7);
  REQUIRE(good.ok());
  CHECK(*good == 7);
  Result<int> bad = parse_positive(0);
  CHECK_FALSE(bad.ok());
  CHECK(bad.status().code() == StatusCode::out_of_range);
}

TEST_CASE("result: value() on an error aborts, naming the status, in every build") {
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    const int null_fd = ::open("/dev/null", O_WRONLY);
    ::dup2(null_fd, STDERR_FILENO);  // the message is for people, not for this log
    const Result<int> bad = parse_positive(0);
    ::_exit(bad.value() == 0 ? 3 : 4);  // reached only if value() did not check
  }
  int raw = 0;
  REQUIRE(::waitpid(child, &raw, 0) == child);
  CHECK(WIFSIGNALED(raw));
  CHECK(WTERMSIG(raw) == SIGABRT);
}
