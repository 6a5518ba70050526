// IDX files (the MNIST / Fashion-MNIST format), plain or gzip-compressed.
//
//   auto fm = edgefl::load_fashion_mnist();                    // Debian's dataset-fashion-mnist
//   auto fm = edgefl::load_fashion_mnist("/data/fashion");     // or another folder
//   fm->train.size();  // 60000, fm->test.size() 10000; pixels kept as uint8, scale 1/255
//
// Errors: not_found (missing file), truncated (file shorter than its header says), corrupt
// (bad magic, label >= 10), shape_mismatch (image and label counts differ).
#pragma once

#include <string>

#include "edgefl/dataset.hpp"
#include "edgefl/status.hpp"

namespace edgefl {

inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

// images: idx3 ubyte (magic 0x803), labels: idx1 ubyte (magic 0x801).
Result<Dataset> load_idx(const std::string& images_path, const std::string& labels_path,
                         std::size_t classes);

struct FashionMnist {
  Dataset train;
  Dataset test;
};
// Reads {train,t10k}-{images-idx3,labels-idx1}-ubyte.gz (or without .gz) from `dir`.
Result<FashionMnist> load_fashion_mnist(const std::string& dir = kFashionMnistDir);

}  // namespace edgefl
