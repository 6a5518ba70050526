// An IDX image file and an IDX label file from one input: the first two bytes (little-endian)
// say how many of the rest are the image file, the remainder is the label file. Both loaders
// (whole file, and streaming selected rows) must return a status or a consistent dataset.
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "edgefl/data/idx_reader.hpp"
#include "fuzz_entry.hpp"

namespace edgefl::fuzz {
namespace {

constexpr std::size_t kClasses = 10;

// A fresh directory for one input's two files, removed afterwards.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "edgefl-fuzz-idx-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) std::abort();
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  std::string file(const char* name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

void write(const std::string& path, const uint8_t* data, std::size_t size) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  if (!out) std::abort();
}

void check(const Result<Dataset>& loaded) {
  if (!loaded.ok()) {
    if (loaded.status().code() == StatusCode::ok) std::abort();
    return;
  }
  for (std::size_t i = 0; i < loaded->size(); ++i) {
    const float target = loaded->target(i);
    if (!(target >= 0.0f && target < kClasses)) std::abort();  // labels were checked against the classes
  }
}

}  // namespace

int run_one(const uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::size_t split = std::min<std::size_t>(data[0] | (std::size_t{data[1]} << 8), size - 2);
  ScratchDir dir;
  const std::string images = dir.file("images.idx");
  const std::string labels = dir.file("labels.idx");
  write(images, data + 2, split);
  write(labels, data + 2 + split, size - 2 - split);

  check(load_idx(images, labels, kClasses));
  check(load_idx_selected(images, labels, kClasses, [](const Dataset& all) {
    std::vector<uint32_t> even;
    for (std::size_t i = 0; i < all.size(); i += 2) even.push_back(static_cast<uint32_t>(i));
    return Result<std::vector<uint32_t>>(std::move(even));
  }));
  return 0;
}

}  // namespace edgefl::fuzz
