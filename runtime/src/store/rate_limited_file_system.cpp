#include "edgefl/store/rate_limited_file_system.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <thread>

namespace edgefl {

namespace {

class RateLimitedWritableFile final : public WritableFile {
 public:
  RateLimitedWritableFile(RateLimitedFileSystem& device, std::unique_ptr<WritableFile> inner)
      : device_(device), inner_(std::move(inner)) {}

  Status append(std::span<const std::byte> data) override {
    EDGEFL_RETURN_IF_ERROR(inner_->append(data));
    drained_at_ = device_.admit(data.size());
    return {};
  }

  Status sync() override {
    EDGEFL_RETURN_IF_ERROR(inner_->sync());
    device_.wait_for_drain(drained_at_);  // the data is durable once the device has taken it
    return {};
  }

  Status close() override { return inner_->close(); }  // no sync: nothing to wait for

 private:
  RateLimitedFileSystem& device_;
  std::unique_ptr<WritableFile> inner_;
  SteadyTime drained_at_{};  // when this file's last appended byte has drained
};

}  // namespace

Result<std::unique_ptr<RateLimitedFileSystem>> RateLimitedFileSystem::create(
    FileSystem& inner, double bytes_per_second) {
  return create(inner, bytes_per_second, steady_time_source(),
                [](SteadyTime until) { std::this_thread::sleep_until(until); });
}

Result<std::unique_ptr<RateLimitedFileSystem>> RateLimitedFileSystem::create(
    FileSystem& inner, double bytes_per_second, TimeSource& clock, WaitUntil wait_until) {
  if (!(std::isfinite(bytes_per_second) && bytes_per_second > 0)) {
    return make_status(
        StatusCode::invalid_argument,
        "an emulated disk's write bandwidth must be a finite number of bytes per second > 0, not " +
            std::to_string(bytes_per_second));
  }
  if (!wait_until)
    return make_status(StatusCode::invalid_argument, "an emulated disk needs a way to wait");
  return std::unique_ptr<RateLimitedFileSystem>(
      new RateLimitedFileSystem(inner, bytes_per_second, clock, std::move(wait_until)));
}

SteadyTime RateLimitedFileSystem::admit(std::size_t bytes) {
  const auto drain = std::chrono::ceil<std::chrono::nanoseconds>(
      std::chrono::duration<double>(static_cast<double>(bytes) / bytes_per_second_));
  std::lock_guard<std::mutex> lock(mutex_);
  // An idle device starts on these bytes now; a busy one after what it already holds.
  drained_at_ = std::max(drained_at_, clock_.now()) + drain;
  return drained_at_;
}

void RateLimitedFileSystem::wait_for_drain(SteadyTime drained) {
  if (clock_.now() < drained) wait_until_(drained);
}

Result<std::unique_ptr<WritableFile>> RateLimitedFileSystem::wrap(
    Result<std::unique_ptr<WritableFile>> file) {
  if (!file) return file.status();
  return std::unique_ptr<WritableFile>(new RateLimitedWritableFile(*this, std::move(*file)));
}

Result<std::unique_ptr<WritableFile>> RateLimitedFileSystem::new_writable(const std::string& path) {
  return wrap(inner_.new_writable(path));
}

Result<std::unique_ptr<WritableFile>> RateLimitedFileSystem::open_appendable(
    const std::string& path) {
  return wrap(inner_.open_appendable(path));
}

Result<std::unique_ptr<SequentialFile>> RateLimitedFileSystem::open_sequential(
    const std::string& path) {
  return inner_.open_sequential(path);
}

Result<std::uint64_t> RateLimitedFileSystem::file_size(const std::string& path) {
  return inner_.file_size(path);
}

Status RateLimitedFileSystem::truncate(const std::string& path, std::uint64_t size) {
  return inner_.truncate(path, size);
}

Status RateLimitedFileSystem::rename(const std::string& from, const std::string& to) {
  return inner_.rename(from, to);
}

Status RateLimitedFileSystem::remove(const std::string& path) {
  return inner_.remove(path);
}

Status RateLimitedFileSystem::create_dir(const std::string& path) {
  return inner_.create_dir(path);
}

Status RateLimitedFileSystem::sync_dir(const std::string& path) {
  return inner_.sync_dir(path);
}

Result<std::vector<std::string>> RateLimitedFileSystem::list_dir(const std::string& path) {
  return inner_.list_dir(path);
}

}  // namespace edgefl
