#include "edgefl/data/synthetic.hpp"

#include <cmath>
#include <string>

#include "edgefl/base/rng.hpp"

namespace edgefl {

namespace {

Status check_sizes(std::size_t samples, std::size_t dim) {
  if (samples == 0 || dim == 0) return make_status(StatusCode::invalid_argument, "synthetic data: zero samples or dimension");
  if (samples * dim > (std::size_t{1} << 30)) return make_status(StatusCode::too_large, "synthetic data: more than 2^30 values");
  return Status();
}

// A direction drawn from N(0, I), scaled to `norm`.
void draw_direction(Rng& rng, float norm, float* out, std::size_t dim) {
  double squares = 0;
  for (std::size_t j = 0; j < dim; ++j) {
    out[j] = static_cast<float>(rng.normal());
    squares += double(out[j]) * out[j];
  }
  const float scale = static_cast<float>(norm / std::sqrt(squares));
  for (std::size_t j = 0; j < dim; ++j) out[j] *= scale;
}

}  // namespace

Result<Dataset> make_blobs(const BlobsConfig& c) {
  EDGEFL_RETURN_IF_ERROR(check_sizes(c.samples, c.dim));
  if (c.classes < 2) return make_status(StatusCode::invalid_argument, "blobs: need at least 2 classes");
  Rng rng(c.seed);
  std::vector<float> centres(c.classes * c.dim);
  for (float& v : centres) v = static_cast<float>(c.separation * rng.normal());
  std::vector<float> x(c.samples * c.dim), y(c.samples);
  for (std::size_t i = 0; i < c.samples; ++i) {
    const std::size_t label = i % c.classes;
    y[i] = static_cast<float>(label);
    for (std::size_t j = 0; j < c.dim; ++j) {
      x[i * c.dim + j] = centres[label * c.dim + j] + static_cast<float>(c.spread * rng.normal());
    }
  }
  return Dataset::from_floats(c.dim, std::move(x), std::move(y), c.classes);
}

std::pair<std::size_t, std::size_t> linear_task_group_rows(const LinearTaskConfig& c, std::size_t group) {
  // The first i with i * groups / samples >= g, i.e. ceil(g * samples / groups).
  auto first = [&c](std::size_t g) { return (g * c.samples + c.groups - 1) / c.groups; };
  return {first(group), first(group + 1)};
}

Result<LinearTask> make_linear_task(const LinearTaskConfig& c) {
  EDGEFL_RETURN_IF_ERROR(check_sizes(c.samples, c.dim));
  if (c.groups == 0 || c.groups > c.samples) {
    return make_status(StatusCode::invalid_argument, "linear task: groups must be in [1, samples]");
  }
  if (c.majority < 0.0f || c.majority > 1.0f || (c.majority > 0.0f && !c.binary)) {
    return make_status(StatusCode::invalid_argument, "linear task: majority must be in [0, 1], and only for binary labels");
  }
  if (!(c.class_mean_norm >= 0.0f) || (c.class_mean_norm > 0.0f && !c.binary)) {
    return make_status(StatusCode::invalid_argument, "linear task: class_mean_norm must be >= 0, and only for binary labels");
  }
  Rng rng(c.seed);
  Rng weight_rng = rng.fork(1), mean_rng = rng.fork(2), sample_rng = rng.fork(3), class_rng = rng.fork(4);
  std::vector<float> w(c.dim);
  const double w_scale = 1.0 / std::sqrt(double(c.dim));
  for (float& v : w) v = static_cast<float>(w_scale * weight_rng.normal());
  std::vector<float> means(c.groups * c.dim, 0.0f);
  if (c.group_mean_norm > 0) {
    for (std::size_t g = 0; g < c.groups; ++g) draw_direction(mean_rng, c.group_mean_norm, &means[g * c.dim], c.dim);
  }
  std::vector<float> class_mean(c.dim, 0.0f);
  if (c.class_mean_norm > 0) draw_direction(class_rng, c.class_mean_norm, class_mean.data(), c.dim);
  std::vector<float> x(c.samples * c.dim), y(c.samples);
  for (std::size_t i = 0; i < c.samples; ++i) {
    const std::size_t group = i * c.groups / c.samples;
    const float* mean = means.data() + group * c.dim;
    double dot = 0;
    for (std::size_t j = 0; j < c.dim; ++j) {
      float v = mean[j] + static_cast<float>(sample_rng.normal());
      x[i * c.dim + j] = v;
      dot += double(v) * w[j];
    }
    if (c.binary && c.majority > 0.0f) {
      const auto [begin, end] = linear_task_group_rows(c, group);
      const bool majority = double(i - begin) < std::round(double(c.majority) * double(end - begin));
      y[i] = static_cast<float>(majority ? group % 2 : 1 - group % 2);
    } else {
      y[i] = c.binary ? (dot > 0 ? 1.0f : 0.0f) : static_cast<float>(dot + c.noise * sample_rng.normal());
    }
    if (c.class_mean_norm > 0) {
      const float sign = y[i] > 0.5f ? 1.0f : -1.0f;
      for (std::size_t j = 0; j < c.dim; ++j) x[i * c.dim + j] += sign * class_mean[j];
    }
  }
  Result<Dataset> data = Dataset::from_floats(c.dim, std::move(x), std::move(y), c.binary ? 2 : 0);
  if (!data) return data.status();
  return LinearTask{std::move(*data), std::move(w)};
}

}  // namespace edgefl
