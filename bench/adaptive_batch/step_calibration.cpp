#include "step_calibration.hpp"

#include <algorithm>
#include <array>
#include <chrono>

#include "edgefl/nn/model.hpp"
#include "edgefl/train/trainer.hpp"

namespace edgefl::bench {

Result<std::vector<StepTiming>> measure_step_times(const ModelSpec& spec, const Dataset& data,
                                                   const std::vector<std::size_t>& batches, std::size_t micro) {
  auto ctx = ComputeContext::create(Backend::xnnpack, 1);
  if (!ctx) return ctx.status();
  auto trainer = LocalTrainer::create(spec, **ctx, {micro, true});
  if (!trainer) return trainer.status();
  auto model = Model::create(spec, 1);
  if (!model) return model.status();
  FloatBuffer params = model->params().clone();
  std::vector<StepTiming> out;
  for (std::size_t b : batches) {
    TrainConfig cfg;
    cfg.optimizer = {OptimizerKind::sgd, 0.01f};
    cfg.batch_size = b;
    // About 16k samples per repetition: long enough to time, short enough for many sizes.
    cfg.local_steps = std::max<std::size_t>(4, 16384 / b);
    auto warm = (*trainer)->train(params.span(), DatasetView(data), cfg);
    if (!warm) return warm.status();
    std::array<double, 3> reps{};
    for (double& r : reps) {
      const auto start = std::chrono::steady_clock::now();
      auto m = (*trainer)->train(params.span(), DatasetView(data), cfg);
      if (!m) return m.status();
      r = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / double(cfg.local_steps);
    }
    std::sort(reps.begin(), reps.end());
    out.push_back({b, reps[0]});
  }
  return out;
}

sim::ComputeCost fit_compute_cost(const std::vector<StepTiming>& t) {
  // Least squares on the relative error (weights 1/t²), so the small batches, whose steps are
  // short, are fitted as well as the large ones.
  double w = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (const StepTiming& p : t) {
    if (!(p.seconds > 0)) continue;
    const double x = double(p.batch), weight = 1.0 / (p.seconds * p.seconds);
    w += weight;
    sx += weight * x;
    sy += weight * p.seconds;
    sxx += weight * x * x;
    sxy += weight * x * p.seconds;
  }
  sim::ComputeCost cost;
  const double denominator = w * sxx - sx * sx;
  if (t.size() < 2 || !(denominator > 0)) {
    cost.sample_s = t.empty() ? 0.0 : t.front().seconds / double(std::max<std::size_t>(1, t.front().batch));
    return cost;
  }
  cost.sample_s = std::max(0.0, (w * sxy - sx * sy) / denominator);
  cost.step_s = std::max(0.0, (sy - cost.sample_s * sx) / w);
  return cost;
}

}  // namespace edgefl::bench
