#include "edgefl/data/dataset.hpp"

#include <cmath>
#include <string>

namespace edgefl {

namespace {

Status check_shape(std::size_t dim, std::size_t features, std::size_t targets, std::size_t classes,
                   std::span<const float> labels) {
  if (dim == 0) return make_status(StatusCode::invalid_argument, "dataset: feature dimension is 0");
  if (features != targets * dim) {
    return make_status(StatusCode::shape_mismatch,
                       "dataset: " + std::to_string(features) + " feature values for " +
                           std::to_string(targets) + " samples of dimension " + std::to_string(dim));
  }
  if (targets > UINT32_MAX) return make_status(StatusCode::too_large, "dataset: more than 2^32 samples");
  for (float y : labels) {
    if (!std::isfinite(y)) return make_status(StatusCode::non_finite, "dataset: non-finite target");
    if (classes > 0 && (y < 0 || y >= float(classes) || y != std::floor(y))) {
      return make_status(StatusCode::out_of_range,
                         "dataset: label " + std::to_string(y) + " is not a class in [0, " +
                             std::to_string(classes) + ")");
    }
  }
  return Status();
}

}  // namespace

Result<Dataset> Dataset::from_bytes(std::size_t dim, std::vector<uint8_t> features,
                                    std::vector<float> targets, ByteScaling scaling, std::size_t classes) {
  EDGEFL_RETURN_IF_ERROR(check_shape(dim, features.size(), targets.size(), classes, targets));
  Dataset d;
  d.dim_ = dim;
  d.classes_ = classes;
  d.scaling_ = scaling;
  d.bytes_ = std::move(features);
  d.targets_ = std::move(targets);
  return d;
}

Result<Dataset> Dataset::from_floats(std::size_t dim, std::vector<float> features,
                                     std::vector<float> targets, std::size_t classes) {
  EDGEFL_RETURN_IF_ERROR(check_shape(dim, features.size(), targets.size(), classes, targets));
  Dataset d;
  d.dim_ = dim;
  d.classes_ = classes;
  d.floats_ = std::move(features);
  d.targets_ = std::move(targets);
  return d;
}

Status Dataset::set_num_classes(std::size_t classes) {
  EDGEFL_RETURN_IF_ERROR(check_shape(dim_, bytes_.empty() ? floats_.size() : bytes_.size(), targets_.size(),
                                     classes, targets_));
  classes_ = classes;
  return Status();
}

Result<Dataset> Dataset::select(std::span<const uint32_t> indices) const {
  std::vector<float> targets;
  targets.reserve(indices.size());
  for (uint32_t i : indices) {
    if (i >= size()) {
      return make_status(StatusCode::out_of_range, "dataset select: index " + std::to_string(i) +
                                                       " of " + std::to_string(size()));
    }
    targets.push_back(targets_[i]);
  }
  if (!bytes_.empty()) {
    std::vector<uint8_t> rows;
    rows.reserve(indices.size() * dim_);
    for (uint32_t i : indices) rows.insert(rows.end(), bytes_.begin() + i * dim_, bytes_.begin() + (i + 1) * dim_);
    Result<Dataset> selected =
        from_bytes(dim_, std::move(rows), std::move(targets), scaling_, classes_);
    if (selected) EDGEFL_RETURN_IF_ERROR(selected->set_standardization(standardization_));
    return selected;
  }
  std::vector<float> rows;
  rows.reserve(indices.size() * dim_);
  for (uint32_t i : indices) rows.insert(rows.end(), floats_.begin() + i * dim_, floats_.begin() + (i + 1) * dim_);
  Result<Dataset> selected = from_floats(dim_, std::move(rows), std::move(targets), classes_);
  if (selected) EDGEFL_RETURN_IF_ERROR(selected->set_standardization(standardization_));
  return selected;
}

Status Dataset::set_standardization(const Standardization& s) {
  if (s.empty()) {
    standardization_ = s;
    standard_scale_.clear();
    standard_offset_.clear();
    return Status();
  }
  EDGEFL_RETURN_IF_ERROR(check_standardization(s, dim_));
  standardization_ = s;
  standard_scale_.assign(dim_, 1.0f);
  standard_offset_.assign(dim_, 0.0f);
  for (std::size_t j = 0; j < dim_; ++j) {
    const std::size_t k = s.mean.size() == 1 ? 0 : j;
    standard_scale_[j] = static_cast<float>(1.0 / s.deviation[k]);
    standard_offset_[j] = static_cast<float>(-s.mean[k] / s.deviation[k]);
  }
  return Status();
}

FeatureMoments feature_moments(const Dataset& data) {
  FeatureMoments moments;
  moments.mean.assign(data.dim(), 0.0);
  moments.m2.assign(data.dim(), 0.0);
  for (std::size_t i = 0; i < data.size(); ++i) {
    ++moments.count;
    const double inverse = 1.0 / static_cast<double>(moments.count);
    for (std::size_t j = 0; j < data.dim(); ++j) {
      const double x = data.loaded_feature(i, j);
      const double delta = x - moments.mean[j];
      moments.mean[j] += delta * inverse;
      moments.m2[j] += delta * (x - moments.mean[j]);
    }
  }
  return moments;
}

std::size_t Dataset::memory_bytes() const {
  return bytes_.capacity() + (floats_.capacity() + targets_.capacity() +
                              standard_scale_.capacity() + standard_offset_.capacity()) *
                                 sizeof(float);
}

void Dataset::gather_transposed(std::span<const uint32_t> samples, float* x, float* y) const {
  const std::size_t count = samples.size();
  for (std::size_t s = 0; s < count; ++s) {
    const std::size_t row = samples[s];
    y[s] = targets_[row];
    if (bytes_.empty()) {
      const float* src = floats_.data() + row * dim_;
      for (std::size_t j = 0; j < dim_; ++j) x[j * count + s] = src[j];
    } else {
      const uint8_t* src = bytes_.data() + row * dim_;
      const float scale = scaling_.scale, offset = scaling_.offset;
      for (std::size_t j = 0; j < dim_; ++j) x[j * count + s] = src[j] * scale + offset;
    }
    if (!standard_scale_.empty()) {
      for (std::size_t j = 0; j < dim_; ++j)
        x[j * count + s] = x[j * count + s] * standard_scale_[j] + standard_offset_[j];
    }
  }
}

Status DatasetView::validate() const {
  if (all_) return Status();
  for (uint32_t i : indices_) {
    if (i >= dataset_->size()) {
      return make_status(StatusCode::out_of_range,
                         "dataset view: index " + std::to_string(i) + " beyond dataset of " +
                             std::to_string(dataset_->size()) + " samples");
    }
  }
  return Status();
}

void DatasetView::gather_transposed(std::span<const uint32_t> positions, std::span<uint32_t> scratch,
                                    float* x, float* y) const {
  for (std::size_t s = 0; s < positions.size(); ++s) scratch[s] = index(positions[s]);
  dataset_->gather_transposed(scratch.first(positions.size()), x, y);
}

std::vector<std::size_t> DatasetView::label_histogram() const {
  std::vector<std::size_t> histogram(dataset_->num_classes(), 0);
  if (histogram.empty()) return histogram;
  for (std::size_t p = 0; p < size(); ++p) ++histogram[static_cast<std::size_t>(dataset_->target(index(p)))];
  return histogram;
}

}  // namespace edgefl
