#include "edgefl/idx_reader.hpp"

#include <zlib.h>

#include <memory>
#include <sys/stat.h>
#include <vector>

namespace edgefl {

namespace {

struct GzCloser {
  void operator()(gzFile f) const { gzclose(f); }
};
using GzFile = std::unique_ptr<gzFile_s, GzCloser>;

// Reads exactly `size` bytes (gzread also reads uncompressed files transparently).
Status read_exact(gzFile file, const std::string& path, void* out, std::size_t size, const char* what) {
  auto* dst = static_cast<unsigned char*>(out);
  std::size_t done = 0;
  while (done < size) {
    const unsigned chunk = static_cast<unsigned>(std::min<std::size_t>(size - done, 1u << 30));
    int n = gzread(file, dst + done, chunk);
    if (n < 0) {
      int code = 0;
      const char* message = gzerror(file, &code);
      return make_status(StatusCode::corrupt, path + ": cannot decode " + what + ": " + message);
    }
    if (n == 0) {
      return make_status(StatusCode::truncated, path + ": file ends inside the " + what + " (" +
                                                    std::to_string(done) + " of " + std::to_string(size) +
                                                    " bytes)");
    }
    done += static_cast<std::size_t>(n);
  }
  return Status();
}

uint32_t big_endian(const unsigned char* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

struct Idx {
  std::vector<uint32_t> dims;
  std::vector<uint8_t> data;
};

// dims: expected rank (3 for images, 1 for labels).
Result<Idx> read_idx(const std::string& path, std::size_t rank) {
  struct stat info {};
  if (stat(path.c_str(), &info) != 0) return make_status(StatusCode::not_found, path + ": no such file");
  GzFile file(gzopen(path.c_str(), "rb"));
  if (!file) return make_status(StatusCode::io_error, path + ": cannot open");
  unsigned char header[4];
  EDGEFL_RETURN_IF_ERROR(read_exact(file.get(), path, header, 4, "header"));
  if (header[0] != 0 || header[1] != 0 || header[2] != 0x08 || header[3] != rank) {
    return make_status(StatusCode::corrupt,
                       path + ": not an IDX file of unsigned bytes with " + std::to_string(rank) +
                           " dimensions (bad magic)");
  }
  Idx idx;
  std::size_t total = 1;
  for (std::size_t i = 0; i < rank; ++i) {
    unsigned char raw[4];
    EDGEFL_RETURN_IF_ERROR(read_exact(file.get(), path, raw, 4, "header"));
    idx.dims.push_back(big_endian(raw));
    total *= idx.dims.back();
    if (total > (std::size_t{1} << 32)) return make_status(StatusCode::too_large, path + ": dimensions too large");
  }
  idx.data.resize(total);
  EDGEFL_RETURN_IF_ERROR(read_exact(file.get(), path, idx.data.data(), total, "data"));
  return idx;
}

bool exists(const std::string& path) {
  struct stat info {};
  return stat(path.c_str(), &info) == 0;
}

}  // namespace

Result<Dataset> load_idx(const std::string& images_path, const std::string& labels_path,
                         std::size_t classes) {
  Result<Idx> images = read_idx(images_path, 3);
  if (!images) return images.status();
  Result<Idx> labels = read_idx(labels_path, 1);
  if (!labels) return labels.status();
  if (images->dims[0] != labels->dims[0]) {
    return make_status(StatusCode::shape_mismatch,
                       images_path + " has " + std::to_string(images->dims[0]) + " images but " +
                           labels_path + " has " + std::to_string(labels->dims[0]) + " labels");
  }
  std::vector<float> targets(labels->data.size());
  for (std::size_t i = 0; i < targets.size(); ++i) {
    if (labels->data[i] >= classes) {
      return make_status(StatusCode::corrupt, labels_path + ": label " + std::to_string(labels->data[i]) +
                                                  " at " + std::to_string(i) + " is not below " +
                                                  std::to_string(classes));
    }
    targets[i] = labels->data[i];
  }
  const std::size_t dim = std::size_t{images->dims[1]} * images->dims[2];
  return Dataset::from_bytes(dim, std::move(images->data), std::move(targets), 1.0f / 255.0f, classes);
}

Result<FashionMnist> load_fashion_mnist(const std::string& dir) {
  auto path = [&dir](const std::string& stem) {
    std::string base = dir + "/" + stem;
    return exists(base + ".gz") || !exists(base) ? base + ".gz" : base;
  };
  Result<Dataset> train = load_idx(path("train-images-idx3-ubyte"), path("train-labels-idx1-ubyte"), 10);
  if (!train) return train.status().with_context("Fashion-MNIST training set");
  Result<Dataset> test = load_idx(path("t10k-images-idx3-ubyte"), path("t10k-labels-idx1-ubyte"), 10);
  if (!test) return test.status().with_context("Fashion-MNIST test set");
  if (train->dim() != test->dim()) {
    return make_status(StatusCode::shape_mismatch, "Fashion-MNIST: train and test images differ in size");
  }
  return FashionMnist{std::move(*train), std::move(*test)};
}

}  // namespace edgefl
