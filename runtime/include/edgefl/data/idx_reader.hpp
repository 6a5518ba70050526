// IDX files (the MNIST / Fashion-MNIST format), plain or gzip-compressed.
//
//   auto fm = edgefl::load_fashion_mnist();                    // Debian's dataset-fashion-mnist
//   auto fm = edgefl::load_fashion_mnist("/data/fashion");     // or another folder
//   fm->train.size();  // 60000, fm->test.size() 10000; pixels kept as uint8, standardised
//                      // (kFashionMnistStandardised) when they become floats
//
// Errors: not_found (missing file), truncated (file shorter than its header says), corrupt
// (bad magic, label >= 10), shape_mismatch (image and label counts differ).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "edgefl/data/dataset.hpp"
#include "edgefl/base/status.hpp"

namespace edgefl {

inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

// images: idx3 ubyte (magic 0x803), labels: idx1 ubyte (magic 0x801). Pixels become
// byte * scaling.scale + scaling.offset (default: [0, 1]).
Result<Dataset> load_idx(const std::string& images_path, const std::string& labels_path,
                         std::size_t classes, ByteScaling scaling = {});

// The labels alone, as a dataset of dim 1 (every feature 0): enough to compute a partition.
Result<Dataset> load_idx_labels(const std::string& labels_path, std::size_t classes);

// Picks the rows to keep from a labels-only dataset (load_idx_labels): sorted indices.
using RowSelector = std::function<Result<std::vector<uint32_t>>(const Dataset& labels)>;

// Loads only the rows `select` picks, streaming the image file, so a device holding one
// partition never has the whole image set in memory (peak: labels + selected rows).
Result<Dataset> load_idx_selected(const std::string& images_path, const std::string& labels_path,
                                  std::size_t classes, const RowSelector& select, ByteScaling scaling = {});

struct FashionMnist {
  Dataset train;
  Dataset test;
};
// Reads {train,t10k}-{images-idx3,labels-idx1}-ubyte.gz (or without .gz) from `dir`.
Result<FashionMnist> load_fashion_mnist(const std::string& dir = kFashionMnistDir);

// Paths of one Fashion-MNIST split ("train" or "t10k") in `dir`, preferring the .gz files.
struct IdxPaths {
  std::string images;
  std::string labels;
};
IdxPaths fashion_mnist_paths(const std::string& dir, const std::string& split);

}  // namespace edgefl
