// Status and Result<T>: how everything on the device path reports failure.
//
//   edgefl::Status s = thing.load(path);
//   if (!s.ok()) { log(s.to_string()); return s; }
//
//   edgefl::Result<ModelSpec> spec = ModelSpec::parse("mlp:784-256-10:relu");
//   if (!spec) return spec.status();
//   use(*spec);
//
// Reading the value of a Result that holds an error is a bug: check ok() first. operator* and
// operator-> assert that in debug builds; value() checks in every build and aborts naming the
// Status (for programs, such as benchmarks, where an error can only mean a broken build).
//
// OK is cheap (no allocation). An error carries one code from StatusCode and a short message
// naming the problem. Library code never throws across its API and never aborts on bad input.
#pragma once

#include <cassert>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace edgefl {

// One enum for the whole runtime, so a code can travel in a Reject message unchanged.
// Values are stable: they appear on the wire (see docs/protocol.md). Append only.
enum class StatusCode : uint16_t {
  ok = 0,
  invalid_argument = 1,   // a caller or a flag passed something meaningless
  not_found = 2,          // a file, key or device that does not exist
  io_error = 3,           // the OS refused a read, write, fsync or rename
  corrupt = 4,            // bytes that fail verification (checksum, FlatBuffers verifier)
  truncated = 5,          // bytes that end before their own header says they should
  too_large = 6,          // over a configured size limit
  misaligned = 7,         // a buffer not aligned as the consumer needs
  version_mismatch = 8,   // protocol or file-format version we do not speak
  shape_mismatch = 9,     // parameter count or layer sizes differ from the model spec
  non_finite = 10,        // NaN or Inf where only finite values are allowed
  unknown_enum = 11,      // an enum value this build does not know
  out_of_range = 12,      // a count, index or setting outside its sane range
  unavailable = 13,       // a peer or backend cannot be reached right now; retrying may help
  timeout = 14,           // a deadline passed
  unauthenticated = 15,   // a peer whose key or identity is not allowed
  resource_exhausted = 16,// a memory budget or queue that cannot take more
  duplicate = 17,         // an update id or (device, round) already accepted
  stale = 18,             // an update for a round or version that is closed or too old
  failed_precondition = 19,// the system is not in a state where the call makes sense
  internal = 20,          // a bug: an invariant of our own broke
  cancelled = 21,         // stopped on request (signal, shutdown)
  norm_exceeded = 22,     // an update whose norm is above the configured bound
  unknown_device = 23,    // a device id the server has not admitted
};

// Stable lower-case name of a code ("shape_mismatch"), for logs and JSON.
std::string_view status_code_name(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok_status() { return Status(); }

  bool ok() const { return code_ == StatusCode::ok; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "shape_mismatch: update has 10 values, model has 235146"
  std::string to_string() const;

  // Adds context in front of the message: "loading outbox: io_error: ...".
  Status with_context(std::string_view context) const;

 private:
  StatusCode code_ = StatusCode::ok;
  std::string message_;
};

inline Status make_status(StatusCode code, std::string message) {
  return Status(code, std::move(message));
}

// Prints "<what>: <status>" to stderr and aborts: Result::value() on an error.
[[noreturn]] void abort_on_error(const Status& status, const char* what);

// A value or the Status that explains why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}                     // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {}              // NOLINT: implicit by design

  bool ok() const { return value_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Status& status() const { return status_; }

  // Precondition (all accessors): ok(). value() checks it in every build, the operators in
  // debug builds.
  T& value() & { return checked(); }
  const T& value() const& { return checked(); }
  T&& value() && { return std::move(checked()); }
  T& operator*() & { return unchecked(); }
  const T& operator*() const& { return unchecked(); }
  T&& operator*() && { return std::move(unchecked()); }  // so `for (x : *f())` owns its range
  T* operator->() { return &unchecked(); }
  const T* operator->() const { return &unchecked(); }

 private:
  static constexpr const char* kNoValue = "Result holds an error: check ok() before reading the value";
  T& unchecked() {
    assert(value_.has_value() && kNoValue);
    return *value_;
  }
  const T& unchecked() const {
    assert(value_.has_value() && kNoValue);
    return *value_;
  }
  T& checked() {
    if (!value_.has_value()) abort_on_error(status_, "Result::value() on an error");
    return *value_;
  }
  const T& checked() const {
    if (!value_.has_value()) abort_on_error(status_, "Result::value() on an error");
    return *value_;
  }

  std::optional<T> value_;
  Status status_;
};

}  // namespace edgefl

// Returns early from a function returning Status or Result<T> when `expr` is not OK.
#define EDGEFL_RETURN_IF_ERROR(expr)              \
  do {                                            \
    ::edgefl::Status edgefl_status_ = (expr);     \
    if (!edgefl_status_.ok()) return edgefl_status_; \
  } while (0)
