#include "edgefl/data/idx_reader.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstdint>
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

// Appends `size` bytes to `out`, growing it only as data arrives: a header may claim gigabytes
// that the file does not hold, and memory must follow the file, not the claim.
// Claims up to this size are reserved at once (no growth slack for real data sets).
constexpr std::size_t kTrustedReserve = std::size_t{256} << 20;

Status append_exact(gzFile file, const std::string& path, std::vector<uint8_t>& out, std::size_t size,
                    const char* what) {
  constexpr std::size_t kChunk = std::size_t{1} << 20;
  if (size <= kTrustedReserve) out.reserve(out.size() + size);
  for (std::size_t done = 0; done < size;) {
    const std::size_t n = std::min(kChunk, size - done);
    const std::size_t at = out.size();
    out.resize(at + n);
    EDGEFL_RETURN_IF_ERROR(read_exact(file, path, out.data() + at, n, what));
    done += n;
  }
  return Status();
}

// Reads past `size` bytes through a small buffer.
Status skip_exact(gzFile file, const std::string& path, std::size_t size, const char* what) {
  uint8_t buffer[std::size_t{1} << 16];
  for (std::size_t done = 0; done < size;) {
    const std::size_t n = std::min(sizeof buffer, size - done);
    EDGEFL_RETURN_IF_ERROR(read_exact(file, path, buffer, n, what));
    done += n;
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

// An open IDX file positioned after its header.
struct IdxStream {
  GzFile file;
  std::vector<uint32_t> dims;
  std::size_t total = 1;
};

// rank: 3 for images, 1 for labels.
Result<IdxStream> open_idx(const std::string& path, std::size_t rank) {
  struct stat info {};
  if (stat(path.c_str(), &info) != 0) return make_status(StatusCode::not_found, path + ": no such file");
  IdxStream idx;
  idx.file.reset(gzopen(path.c_str(), "rb"));
  if (!idx.file) return make_status(StatusCode::io_error, path + ": cannot open");
  unsigned char header[4];
  EDGEFL_RETURN_IF_ERROR(read_exact(idx.file.get(), path, header, 4, "header"));
  if (header[0] != 0 || header[1] != 0 || header[2] != 0x08 || header[3] != rank) {
    return make_status(StatusCode::corrupt,
                       path + ": not an IDX file of unsigned bytes with " + std::to_string(rank) +
                           " dimensions (bad magic)");
  }
  for (std::size_t i = 0; i < rank; ++i) {
    unsigned char raw[4];
    EDGEFL_RETURN_IF_ERROR(read_exact(idx.file.get(), path, raw, 4, "header"));
    idx.dims.push_back(big_endian(raw));
    // In 64 bits also where size_t has 32 (armhf), so the product cannot wrap before the check.
    const uint64_t total = uint64_t{idx.total} * idx.dims.back();
    if (total > std::min<uint64_t>(uint64_t{1} << 32, SIZE_MAX)) {
      return make_status(StatusCode::too_large, path + ": dimensions too large");
    }
    idx.total = static_cast<std::size_t>(total);
  }
  return idx;
}

Result<Idx> read_idx(const std::string& path, std::size_t rank) {
  Result<IdxStream> stream = open_idx(path, rank);
  if (!stream) return stream.status();
  Idx idx;
  idx.dims = stream->dims;
  EDGEFL_RETURN_IF_ERROR(append_exact(stream->file.get(), path, idx.data, stream->total, "data"));
  return idx;
}

Result<std::vector<float>> read_labels(const std::string& path, std::size_t classes) {
  Result<Idx> labels = read_idx(path, 1);
  if (!labels) return labels.status();
  std::vector<float> targets(labels->data.size());
  for (std::size_t i = 0; i < targets.size(); ++i) {
    if (labels->data[i] >= classes) {
      return make_status(StatusCode::corrupt, path + ": label " + std::to_string(labels->data[i]) +
                                                  " at " + std::to_string(i) + " is not below " +
                                                  std::to_string(classes));
    }
    targets[i] = labels->data[i];
  }
  return targets;
}

Status check_counts(const std::string& images_path, std::size_t images, const std::string& labels_path,
                    std::size_t labels) {
  if (images == labels) return Status();
  return make_status(StatusCode::shape_mismatch, images_path + " has " + std::to_string(images) +
                                                     " images but " + labels_path + " has " +
                                                     std::to_string(labels) + " labels");
}

bool exists(const std::string& path) {
  struct stat info {};
  return stat(path.c_str(), &info) == 0;
}

}  // namespace

Result<Dataset> load_idx(const std::string& images_path, const std::string& labels_path,
                         std::size_t classes, ByteScaling scaling) {
  Result<Idx> images = read_idx(images_path, 3);
  if (!images) return images.status();
  Result<std::vector<float>> targets = read_labels(labels_path, classes);
  if (!targets) return targets.status();
  EDGEFL_RETURN_IF_ERROR(check_counts(images_path, images->dims[0], labels_path, targets->size()));
  const std::size_t dim = std::size_t{images->dims[1]} * images->dims[2];
  return Dataset::from_bytes(dim, std::move(images->data), std::move(*targets), scaling, classes);
}

Result<Dataset> load_idx_labels(const std::string& labels_path, std::size_t classes) {
  Result<std::vector<float>> targets = read_labels(labels_path, classes);
  if (!targets) return targets.status();
  const std::size_t count = targets->size();
  return Dataset::from_bytes(1, std::vector<uint8_t>(count, 0), std::move(*targets), {1.0f, 0.0f}, classes);
}

Result<Dataset> load_idx_selected(const std::string& images_path, const std::string& labels_path,
                                  std::size_t classes, const RowSelector& select, ByteScaling scaling) {
  Result<Dataset> labels_only = load_idx_labels(labels_path, classes);
  if (!labels_only) return labels_only.status();
  const std::size_t count = labels_only->size();
  std::vector<float> targets(labels_only->targets().begin(), labels_only->targets().end());
  Result<std::vector<uint32_t>> rows = select(*labels_only);
  if (!rows) return rows.status();
  labels_only = Dataset();  // free before the images arrive
  for (std::size_t k = 0; k < rows->size(); ++k) {
    if ((*rows)[k] >= count || (k > 0 && (*rows)[k] <= (*rows)[k - 1])) {
      return make_status(StatusCode::invalid_argument,
                         "load_idx_selected: rows must be sorted, unique and below " + std::to_string(count));
    }
  }

  Result<IdxStream> images = open_idx(images_path, 3);
  if (!images) return images.status();
  EDGEFL_RETURN_IF_ERROR(check_counts(images_path, images->dims[0], labels_path, count));
  const std::size_t dim = std::size_t{images->dims[1]} * images->dims[2];
  std::vector<uint8_t> kept;  // grows row by row: the header's dimensions are only a claim
  if (rows->size() * dim <= kTrustedReserve) kept.reserve(rows->size() * dim);
  std::vector<float> kept_targets;
  kept_targets.reserve(rows->size());
  std::size_t next = 0;  // position in *rows
  for (std::size_t i = 0; i < count && next < rows->size(); ++i) {
    if ((*rows)[next] != i) {
      EDGEFL_RETURN_IF_ERROR(skip_exact(images->file.get(), images_path, dim, "data"));
      continue;
    }
    EDGEFL_RETURN_IF_ERROR(append_exact(images->file.get(), images_path, kept, dim, "data"));
    kept_targets.push_back(targets[i]);
    ++next;
  }
  return Dataset::from_bytes(dim, std::move(kept), std::move(kept_targets), scaling, classes);
}

IdxPaths fashion_mnist_paths(const std::string& dir, const std::string& split) {
  auto path = [&dir](const std::string& stem) {
    std::string base = dir + "/" + stem;
    return exists(base + ".gz") || !exists(base) ? base + ".gz" : base;
  };
  return IdxPaths{path(split + "-images-idx3-ubyte"), path(split + "-labels-idx1-ubyte")};
}

Result<FashionMnist> load_fashion_mnist(const std::string& dir) {
  IdxPaths train_paths = fashion_mnist_paths(dir, "train");
  IdxPaths test_paths = fashion_mnist_paths(dir, "t10k");
  Result<Dataset> train = load_idx(train_paths.images, train_paths.labels, 10, kFashionMnistStandardised);
  if (!train) return train.status().with_context("Fashion-MNIST training set");
  Result<Dataset> test = load_idx(test_paths.images, test_paths.labels, 10, kFashionMnistStandardised);
  if (!test) return test.status().with_context("Fashion-MNIST test set");
  if (train->dim() != test->dim()) {
    return make_status(StatusCode::shape_mismatch, "Fashion-MNIST: train and test images differ in size");
  }
  return FashionMnist{std::move(*train), std::move(*test)};
}

}  // namespace edgefl
