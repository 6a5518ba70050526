#include <doctest/doctest.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <vector>

#include "edgefl/store/fault_file_system.hpp"
#include "edgefl/store/rate_limited_file_system.hpp"

using namespace edgefl;
using std::chrono::duration;
using std::chrono::milliseconds;

namespace {

// A 1 MB/s device over an in-memory file system, on a clock that moves only when a sync waits
// (the wait jumps it to the drain time) or when the test advances it.
struct Device {
  static constexpr double kBytesPerSecond = 1e6;
  FaultFileSystem memory;
  ManualTimeSource clock;
  std::vector<SteadyTime> waits;  // every wait the device asked for
  std::unique_ptr<RateLimitedFileSystem> fs;

  Device() {
    REQUIRE(memory.create_dir("d").ok());
    auto created =
        RateLimitedFileSystem::create(memory, kBytesPerSecond, clock, [this](SteadyTime until) {
          waits.push_back(until);
          if (until > clock.now()) clock.advance(until - clock.now());
        });
    REQUIRE(created.ok());
    fs = std::move(*created);
  }

  std::unique_ptr<WritableFile> open(const std::string& path) {
    auto file = fs->new_writable(path);
    REQUIRE(file.ok());
    return std::move(*file);
  }

  // Seconds on the clock since `start`.
  double since(SteadyTime start) const { return duration<double>(clock.now() - start).count(); }
};

const std::vector<std::byte> kRecord(10'000, std::byte{7});

}  // namespace

TEST_CASE("rate-limited fs: bytes written then synced take bytes / rate on the clock") {
  Device device;
  const SteadyTime start = device.clock.now();
  auto file = device.open("d/log");
  for (int i = 0; i < 250; ++i) REQUIRE(file->append(kRecord).ok());  // 2.5 MB, written at once
  CHECK(device.since(start) == 0.0);  // writes land in the cache without waiting
  REQUIRE(file->sync().ok());
  CHECK(device.since(start) == doctest::Approx(2.5).epsilon(1e-6));
  CHECK(device.memory.contents("d/log")->size() == 2'500'000);
  CHECK(device.memory.file_syncs("d/log") == 1);  // the wrapped file was synced too
}

TEST_CASE("rate-limited fs: idle time gives no credit, writes during a drain queue behind it") {
  Device device;
  auto file = device.open("d/log");
  for (int i = 0; i < 10; ++i) REQUIRE(file->append(kRecord).ok());
  REQUIRE(file->sync().ok());
  device.clock.advance(std::chrono::seconds(10));  // idle after 0.1 s of work: no burst saved up
  SteadyTime start = device.clock.now();
  for (int i = 0; i < 50; ++i) REQUIRE(file->append(kRecord).ok());  // 0.5 s of drain
  device.clock.advance(milliseconds(250));
  for (int i = 0; i < 50; ++i) REQUIRE(file->append(kRecord).ok());  // starts at 0.5 s, not 0.25
  REQUIRE(file->sync().ok());
  CHECK(device.since(start) == doctest::Approx(1.0).epsilon(1e-6));

  // Steady appends at half the rate never wait; the sync after them waits for the last one only.
  start = device.clock.now();
  for (int i = 0; i < 100; ++i) {
    REQUIRE(file->append(kRecord).ok());  // 10 ms of drain
    device.clock.advance(milliseconds(20));
  }
  device.waits.clear();
  REQUIRE(file->sync().ok());
  CHECK(device.waits.empty());
  CHECK(device.since(start) == doctest::Approx(2.0).epsilon(1e-6));
}

TEST_CASE("rate-limited fs: sync waits for the drain, and only for this file's bytes") {
  Device device;
  const SteadyTime start = device.clock.now();
  auto first = device.open("d/first");
  auto second = device.open("d/second");
  for (int i = 0; i < 100; ++i) REQUIRE(first->append(kRecord).ok());   // drains by 1 s
  for (int i = 0; i < 100; ++i) REQUIRE(second->append(kRecord).ok());  // then by 2 s
  REQUIRE(first->sync().ok());
  REQUIRE(device.waits.size() == 1);
  CHECK(duration<double>(device.waits[0] - start).count() == doctest::Approx(1.0).epsilon(1e-6));
  CHECK(device.since(start) == doctest::Approx(1.0).epsilon(1e-6));
  REQUIRE(second->sync().ok());
  CHECK(device.since(start) == doctest::Approx(2.0).epsilon(1e-6));

  // Once drained, a sync does not wait again; a file never written needs no wait either.
  device.waits.clear();
  REQUIRE(first->sync().ok());
  auto empty = device.open("d/empty");
  REQUIRE(empty->sync().ok());
  CHECK(device.waits.empty());
  CHECK(device.since(start) == doctest::Approx(2.0).epsilon(1e-6));
}

TEST_CASE(
    "rate-limited fs: the wrapped system's errors pass through, failed bytes are not metered") {
  Device device;
  auto file = device.open("d/log");
  const SteadyTime start = device.clock.now();
  device.memory.fail_once(device.memory.operation_count() + 1);
  Status failed = file->append(std::vector<std::byte>(1'000'000, std::byte{1}));
  CHECK(failed.code() == StatusCode::io_error);
  CHECK(failed.message().find("injected fault") != std::string::npos);
  REQUIRE(file->append(kRecord).ok());
  device.memory.fail_once(device.memory.operation_count() + 1);
  CHECK(file->sync().code() == StatusCode::io_error);  // the sync failed: no wait, no success
  CHECK(device.waits.empty());
  REQUIRE(file->sync().ok());
  CHECK(device.since(start) == doctest::Approx(0.01).epsilon(1e-6));  // only the 10 kB written

  CHECK(device.fs->new_writable("missing/x").status().code() == StatusCode::not_found);
  CHECK(device.fs->open_appendable("d/none").status().code() == StatusCode::not_found);
  CHECK(device.fs->file_size("d/log").value() == 10'000);
  REQUIRE(device.fs->rename("d/log", "d/renamed").ok());
  CHECK(device.fs->list_dir("d").value() == std::vector<std::string>{"renamed"});
}

TEST_CASE("rate-limited fs: a rate that is not finite and > 0 is refused") {
  FaultFileSystem memory;
  for (double rate : {0.0, -40e6, std::nan(""), std::numeric_limits<double>::infinity()}) {
    auto created = RateLimitedFileSystem::create(memory, rate);
    REQUIRE_FALSE(created.ok());
    CHECK(created.status().code() == StatusCode::invalid_argument);
    CHECK(created.status().message().find("bandwidth") != std::string::npos);
  }
}
