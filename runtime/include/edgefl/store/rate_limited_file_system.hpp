// RateLimitedFileSystem: another FileSystem seen through a storage device of a given write
// bandwidth, for benchmarks that need a slow disk (an SD card at 20-90 MB/s) on a machine whose
// disk is fast. Writes land at once, as in the page cache; the device drains the bytes written
// through it one after another at `bytes_per_second`, and a file's sync() returns only once
// the wrapped sync has and every byte appended to that file so far has drained.
//
//   Result<std::unique_ptr<RateLimitedFileSystem>> disk =
//       RateLimitedFileSystem::create(posix_file_system(), 40e6);   // a 40 MB/s card
//   if (!disk) return disk.status();                                 // rate not > 0
//   auto ledger = UpdateLedger::open(**disk, state_dir, ...);
//
// The drain is a leaky bucket without burst: time the device spends idle gives no credit, and
// bytes of every file share the one device in the order appended. Only file data is metered:
// creates, renames, truncates, directory syncs and reads pass through at the wrapped system's
// speed. Errors of the wrapped system come back unchanged; bytes it failed to write are not
// metered. Safe to share between threads (as the wrapped system must be).
//
// Tests inject the clock and the wait: a ManualTimeSource and a wait that advances it.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <utility>

#include "edgefl/base/time_source.hpp"
#include "edgefl/store/file_system.hpp"

namespace edgefl {

class RateLimitedFileSystem final : public FileSystem {
 public:
  // Blocks the calling thread until `clock` reads `until` or later.
  using WaitUntil = std::function<void(SteadyTime until)>;

  // The real monotonic clock and a sleep. invalid_argument unless the rate is finite and > 0.
  static Result<std::unique_ptr<RateLimitedFileSystem>> create(FileSystem& inner,
                                                               double bytes_per_second);
  static Result<std::unique_ptr<RateLimitedFileSystem>> create(FileSystem& inner,
                                                               double bytes_per_second,
                                                               TimeSource& clock,
                                                               WaitUntil wait_until);

  double bytes_per_second() const { return bytes_per_second_; }
  // Meters `bytes` just written: returns when the device will have drained them (and all before).
  SteadyTime admit(std::size_t bytes);
  // Waits (through the injected wait) until `drained`, unless the clock is already past it.
  void wait_for_drain(SteadyTime drained);

  Result<std::unique_ptr<WritableFile>> new_writable(const std::string& path) override;
  Result<std::unique_ptr<WritableFile>> open_appendable(const std::string& path) override;
  Result<std::unique_ptr<SequentialFile>> open_sequential(const std::string& path) override;
  Result<std::uint64_t> file_size(const std::string& path) override;
  Status truncate(const std::string& path, std::uint64_t size) override;
  Status rename(const std::string& from, const std::string& to) override;
  Status remove(const std::string& path) override;
  Status create_dir(const std::string& path) override;
  Status sync_dir(const std::string& path) override;
  Result<std::vector<std::string>> list_dir(const std::string& path) override;

 private:
  RateLimitedFileSystem(FileSystem& inner, double bytes_per_second, TimeSource& clock,
                        WaitUntil wait_until)
      : inner_(inner),
        bytes_per_second_(bytes_per_second),
        clock_(clock),
        wait_until_(std::move(wait_until)) {}
  Result<std::unique_ptr<WritableFile>> wrap(Result<std::unique_ptr<WritableFile>> file);

  FileSystem& inner_;
  const double bytes_per_second_;
  TimeSource& clock_;
  const WaitUntil wait_until_;
  std::mutex mutex_;
  SteadyTime drained_at_{};  // when every byte admitted so far has drained (guarded by mutex_)
};

}  // namespace edgefl
