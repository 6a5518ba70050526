// Synthetic data sets, deterministic from a seed (edgefl::Rng).
//
//   auto blobs = edgefl::make_blobs({.classes = 4, .dim = 16, .samples = 2000, .seed = 1});
//   auto reg = edgefl::make_linear_task({.samples = 200, .dim = 1000, .groups = 10, .seed = 2});
//   reg->data; reg->w_true;
//
// Blobs: class centres ~ separation * N(0, I), samples = centre + spread * N(0, I), balanced.
// Linear task (the Local-GD test bed, docs/algorithms.md §2.2): sample i belongs to group
// i * groups / samples; each group has a mean of norm group_mean_norm in a random direction;
// x ~ N(mean, I); w_true ~ N(0, I/d); target y = x.w_true + noise * N(0,1) (regression) or
// 1[x.w_true > 0] (binary = true), or with majority > 0 a label skew instead: the first
// round(majority * size) samples of group g are labelled g % 2, the rest 1 - g % 2 (with
// dim > samples such data is linearly separable almost surely). Binary labels with
// class_mean_norm > 0 move each sample by +mu (label 1) or -mu (label 0), mu a random direction
// of that norm, so the classes differ in their features and not only by where they sit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "edgefl/data/dataset.hpp"
#include "edgefl/base/status.hpp"

namespace edgefl {

struct BlobsConfig {
  std::size_t classes = 4;
  std::size_t dim = 16;
  std::size_t samples = 1000;
  float separation = 3.0f;
  float spread = 1.0f;
  uint64_t seed = 1;
};
Result<Dataset> make_blobs(const BlobsConfig& config);

struct LinearTaskConfig {
  std::size_t samples = 200;
  std::size_t dim = 1000;
  std::size_t groups = 1;
  float group_mean_norm = 0.0f;
  float noise = 0.0f;
  bool binary = false;
  uint64_t seed = 1;
  float majority = 0.0f;  // binary: > 0 labels by group (label skew), in (0, 1]
  float class_mean_norm = 0.0f;  // binary: > 0 separates the classes' means by twice this
};
// The rows of group `group` (contiguous: sample i is in group i * groups / samples).
std::pair<std::size_t, std::size_t> linear_task_group_rows(const LinearTaskConfig& config, std::size_t group);
struct LinearTask {
  Dataset data;
  std::vector<float> w_true;
};
Result<LinearTask> make_linear_task(const LinearTaskConfig& config);

}  // namespace edgefl
