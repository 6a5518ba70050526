// Dense: y = W x + b on the backend's GEMMs (dense_kernels.hpp), weights [out][in], bias [out].
#include <algorithm>
#include <optional>

#include "../dense_kernels.hpp"
#include "layers.hpp"

namespace edgefl {

namespace {

void add_bias_relu(float* y, const float* bias, std::size_t n, std::size_t b, bool relu) {
  for (std::size_t i = 0; i < n; ++i) {
    float* row = y + i * b;
    const float bi = bias != nullptr ? bias[i] : 0.0f;
    if (relu) {
      for (std::size_t s = 0; s < b; ++s) row[s] = std::max(row[s] + bi, 0.0f);
    } else if (bias != nullptr) {
      for (std::size_t s = 0; s < b; ++s) row[s] += bi;
    }
  }
}

// Bias gradient db[n] = sum over the batch of dy[n][s]. Each row is summed serially from s = 0
// (the summation order every result and test was established with), but eight rows at a time,
// so eight independent add chains overlap instead of one latency-bound chain.
void bias_grad(const float* dy, float* db, std::size_t rows, std::size_t batch) {
  constexpr std::size_t kRows = 8;
  std::size_t n = 0;
  for (; n + kRows <= rows; n += kRows) {
    float sums[kRows] = {};
    for (std::size_t s = 0; s < batch; ++s) {
      for (std::size_t l = 0; l < kRows; ++l) sums[l] += dy[(n + l) * batch + s];
    }
    for (std::size_t l = 0; l < kRows; ++l) db[n + l] = sums[l];
  }
  for (; n < rows; ++n) {
    float sum = 0.0f;
    for (std::size_t s = 0; s < batch; ++s) sum += dy[n * batch + s];
    db[n] = sum;
  }
}

// Weight rows as the kernels finish them, reported as flat parameter ranges.
class RowsToSink final : public GradientRowsSink {
 public:
  RowsToSink(ParameterGradientSink& sink, std::size_t offset, std::size_t row_floats)
      : sink_(sink), offset_(offset), row_floats_(row_floats) {}
  void rows_ready(std::size_t begin, std::size_t end) override {
    sink_.ready(offset_ + begin * row_floats_, offset_ + end * row_floats_);
  }

 private:
  ParameterGradientSink& sink_;
  std::size_t offset_, row_floats_;
};

class Dense final : public Layer {
 public:
  Dense(LayerGeometry g, bool fuse_relu) : Layer(std::move(g)), fuse_relu_(fuse_relu) {}

  Status forward(const LayerContext& ctx, const LayerForward& a) override {
    const float* w = a.params + g_.param_offset;
    EDGEFL_RETURN_IF_ERROR(ctx.kernels->forward(w, a.x, a.y, outputs(), inputs(), a.batch));
    add_bias_relu(a.y, g_.spec.bias ? w + weights() : nullptr, outputs(), a.batch, fuse_relu_);
    return Status();
  }

  Status backward(const LayerContext& ctx, const LayerBackward& a) override {
    const float* w = a.params + g_.param_offset;
    // Fused update: the input gradient first, while the weights are still this step's (and a
    // frozen layer needs nothing else).
    if ((a.sink != nullptr || a.param_grads == nullptr) && a.dx != nullptr) {
      EDGEFL_RETURN_IF_ERROR(
          ctx.kernels->input_grad(w, a.dy, a.dx, ctx.weight_scratch, outputs(), inputs(), a.batch));
    }
    if (a.param_grads == nullptr) return Status();
    std::optional<RowsToSink> rows;
    if (a.sink != nullptr) rows.emplace(*a.sink, g_.param_offset, inputs());
    EDGEFL_RETURN_IF_ERROR(ctx.kernels->weight_grad(a.dy, a.x, a.param_grads, outputs(), inputs(), a.batch,
                                                    rows ? &*rows : nullptr));
    if (g_.spec.bias) {
      bias_grad(a.dy, a.param_grads + weights(), outputs(), a.batch);
      if (a.sink != nullptr) a.sink->ready(g_.param_offset + weights(), g_.param_offset + g_.param_count);
    }
    if (a.sink == nullptr && a.dx != nullptr) {  // unfused: after the weight gradient
      EDGEFL_RETURN_IF_ERROR(
          ctx.kernels->input_grad(w, a.dy, a.dx, ctx.weight_scratch, outputs(), inputs(), a.batch));
    }
    return Status();
  }

  // Sample s: weights dy_s x_s^T, bias dy_s.
  void sample_gradient(std::size_t tensor, const float* x, const float* dy, std::size_t batch, std::size_t s,
                       float* out) const override {
    for (std::size_t o = 0; o < outputs(); ++o) {
      const float d = dy[o * batch + s];
      if (tensor == 1) {
        out[o] = d;
        continue;
      }
      for (std::size_t j = 0; j < inputs(); ++j) out[o * inputs() + j] = d * x[j * batch + s];
    }
  }

 private:
  std::size_t inputs() const { return g_.in.size(); }
  std::size_t outputs() const { return g_.out.size(); }
  std::size_t weights() const { return inputs() * outputs(); }

  bool fuse_relu_;
};

}  // namespace

std::unique_ptr<Layer> make_dense(LayerGeometry g, bool fuse_relu) {
  return std::make_unique<Dense>(std::move(g), fuse_relu);
}

}  // namespace edgefl
