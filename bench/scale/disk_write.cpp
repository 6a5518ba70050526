// disk_write: sequential write bandwidth of a directory's disk, through the same FileSystem the
// server writes its state with: BYTES written in records of RECORD bytes, one fsync, as MB/s
// (10^6 bytes) on one JSON line. With --emulate-disk-mbps the writes go through the emulated
// storage device edgefl-server's option of that name puts in front of its state directory.
//
//   disk_write --dir /var/tmp --bytes 940000000 --record 940000 [--emulate-disk-mbps 40]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "edgefl/store/file_system.hpp"
#include "edgefl/store/rate_limited_file_system.hpp"

namespace {

using namespace edgefl;

struct Options {
  std::string dir;
  double bytes = 0;
  double record = 0;
  double emulate_mbps = 0;  // 0: the real disk
};

// A number > 0 for `flag`, or an error naming both.
Result<double> positive_number(const std::string& flag, const char* text) {
  char* end = nullptr;
  const double value = std::strtod(text, &end);
  if (end == text || *end != '\0' || !(value > 0) || value > 1e15) {
    return make_status(StatusCode::invalid_argument, flag + ": '" + text + "' is not a number > 0");
  }
  return value;
}

Result<Options> parse(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; i += 2) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) return make_status(StatusCode::invalid_argument, flag + " needs a value");
    if (flag == "--dir") {
      options.dir = argv[i + 1];
      continue;
    }
    double* target = flag == "--bytes"               ? &options.bytes
                     : flag == "--record"            ? &options.record
                     : flag == "--emulate-disk-mbps" ? &options.emulate_mbps
                                                     : nullptr;
    if (target == nullptr) return make_status(StatusCode::invalid_argument, "unknown flag " + flag);
    Result<double> value = positive_number(flag, argv[i + 1]);
    if (!value) return value.status();
    *target = *value;
  }
  if (options.dir.empty() || options.bytes < 1 || options.record < 1) {
    return make_status(
        StatusCode::invalid_argument,
        "usage: disk_write --dir DIR --bytes N --record N [--emulate-disk-mbps MBPS]");
  }
  return options;
}

// Seconds to write and sync the file; the file is removed afterwards.
Result<double> timed_write(FileSystem& fs, const std::string& path, uint64_t bytes,
                           uint64_t record_bytes) {
  std::vector<std::byte> record(record_bytes);
  for (std::size_t i = 0; i < record.size(); ++i)
    record[i] = static_cast<std::byte>((i * 2654435761u) >> 24);
  const auto start = std::chrono::steady_clock::now();
  Result<std::unique_ptr<WritableFile>> file = fs.new_writable(path);
  if (!file) return file.status();
  for (uint64_t written = 0; written < bytes; written += record.size()) {
    const std::size_t n =
        static_cast<std::size_t>(std::min<uint64_t>(record.size(), bytes - written));
    EDGEFL_RETURN_IF_ERROR((*file)->append(std::span(record.data(), n)));
  }
  EDGEFL_RETURN_IF_ERROR((*file)->sync());
  EDGEFL_RETURN_IF_ERROR((*file)->close());
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EDGEFL_RETURN_IF_ERROR(fs.remove(path));
  return seconds;
}

}  // namespace

int main(int argc, char** argv) {
  Result<Options> options = parse(argc, argv);
  if (!options) {
    std::fprintf(stderr, "disk_write: %s\n", options.status().to_string().c_str());
    return 2;
  }
  std::unique_ptr<RateLimitedFileSystem> emulated;
  if (options->emulate_mbps > 0) {
    Result<std::unique_ptr<RateLimitedFileSystem>> created =
        RateLimitedFileSystem::create(posix_file_system(), options->emulate_mbps * 1e6);
    if (!created) {
      std::fprintf(stderr, "disk_write: %s\n", created.status().to_string().c_str());
      return 2;
    }
    emulated = std::move(*created);
  }
  FileSystem& fs = emulated ? static_cast<FileSystem&>(*emulated) : posix_file_system();
  const auto bytes = static_cast<uint64_t>(options->bytes);
  Result<double> seconds = timed_write(fs, join_path(options->dir, "disk-write.tmp"), bytes,
                                       static_cast<uint64_t>(options->record));
  if (!seconds) {
    std::fprintf(stderr, "disk_write: %s\n", seconds.status().to_string().c_str());
    return 1;
  }
  std::printf(
      "{\"bytes\": %llu, \"record_bytes\": %llu, \"emulate_disk_mbps\": %g, \"seconds\": %.4f, "
      "\"mb_per_s\": %.2f}\n",
      static_cast<unsigned long long>(bytes), static_cast<unsigned long long>(options->record),
      options->emulate_mbps, *seconds, static_cast<double>(bytes) / *seconds / 1e6);
  return 0;
}
