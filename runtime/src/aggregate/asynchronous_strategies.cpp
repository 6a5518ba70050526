// fedasync (mix on every arrival) and fedbuff (buffer K staleness-weighted deltas).
#include <cmath>

#include "edgefl/aggregate/streaming_mean.hpp"
#include "strategy_base.hpp"

namespace edgefl {

Result<StalenessFunction> parse_staleness_function(std::string_view name) {
  if (name == "constant") return StalenessFunction::constant;
  if (name == "polynomial") return StalenessFunction::polynomial;
  if (name == "hinge") return StalenessFunction::hinge;
  return Status(StatusCode::unknown_enum,
                "unknown staleness function '" + std::string(name) + "' (constant, polynomial, hinge)");
}

std::string_view staleness_function_name(StalenessFunction function) {
  switch (function) {
    case StalenessFunction::constant:
      return "constant";
    case StalenessFunction::polynomial:
      return "polynomial";
    case StalenessFunction::hinge:
      return "hinge";
  }
  return "unknown";
}

double staleness_factor(StalenessFunction function, std::uint64_t staleness, double a, double b) {
  const double tau = static_cast<double>(staleness);
  switch (function) {
    case StalenessFunction::constant:
      return 1.0;
    case StalenessFunction::polynomial:
      return std::pow(tau + 1.0, -a);
    case StalenessFunction::hinge:
      return tau <= b ? 1.0 : 1.0 / (a * (tau - b) + 1.0);
  }
  return 1.0;
}

namespace aggregate_detail {

namespace {

class FedAsync final : public AsynchronousStrategy {
 public:
  FedAsync(std::size_t size, const StrategySettings& s) : AsynchronousStrategy("fedasync", size, s) {}

 protected:
  // x += α_t·scale·(x_new − x), where x_new − x is the delta itself in delta form.
  Result<bool> accept(std::span<float> global, const Arrival& arrival, double scale) override {
    const double alpha_t =
        settings_.alpha * staleness_factor(settings_.staleness_function, arrival.staleness, settings_.staleness_a,
                                           settings_.staleness_b);
    std::span<const float> in = arrival.values;
    if (arrival.form == UpdateForm::delta) {
      const float step = static_cast<float>(alpha_t * scale);
      for (std::size_t i = 0; i < in.size(); ++i) global[i] += step * in[i];
      return true;
    }
    Result<double> clip = model_difference_scale(global, in);
    if (!clip) return clip.status();
    const float step = static_cast<float>(alpha_t * *clip);
    for (std::size_t i = 0; i < in.size(); ++i) global[i] += step * (in[i] - global[i]);
    return true;
  }

 private:
  // The norm bound applied to x_new − x, without materialising the difference.
  Result<double> model_difference_scale(std::span<const float> global, std::span<const float> model) const {
    if (settings_.checks.max_l2_norm <= 0.0) return 1.0;
    double squared = 0.0;
    for (std::size_t i = 0; i < model.size(); ++i) {
      const double diff = static_cast<double>(model[i]) - global[i];
      squared += diff * diff;
    }
    const double norm = std::sqrt(squared);
    if (norm <= settings_.checks.max_l2_norm) return 1.0;
    if (settings_.checks.clip_to_norm) return settings_.checks.max_l2_norm / norm;
    return Status(StatusCode::norm_exceeded, "fedasync: model differs from global by L2 norm " + std::to_string(norm) +
                                                 ", bound " + std::to_string(settings_.checks.max_l2_norm));
  }
};

class FedBuff final : public AsynchronousStrategy {
 public:
  FedBuff(std::size_t size, const StrategySettings& s, std::unique_ptr<ServerStrategy> optimizer)
      : AsynchronousStrategy("fedbuff", size, s), buffer_(size), mean_(size), optimizer_(std::move(optimizer)) {}

  StrategyState save_state() const override {
    StrategyState state = optimizer_->save_state();
    buffer_.save(state, "fedbuff.buffer");
    return state;
  }

  Status restore_state(const StrategyState& state) override {
    // Check the buffer entries first: the optimizer's restore is all-or-nothing, so after
    // it succeeds the buffer's restore cannot fail and the whole restore is all-or-nothing.
    EDGEFL_RETURN_IF_ERROR(buffer_.check(state, "fedbuff.buffer"));
    if (*state.find_scalar("fedbuff.buffer.count") >= settings_.buffer_size) {
      return Status(StatusCode::out_of_range, "fedbuff state holds a full buffer; buffer_size is " +
                                                  std::to_string(settings_.buffer_size));
    }
    EDGEFL_RETURN_IF_ERROR(optimizer_->restore_state(state));
    return buffer_.restore(state, "fedbuff.buffer");
  }

 protected:
  Result<bool> accept(std::span<float> global, const Arrival& arrival, double scale) override {
    if (arrival.form != UpdateForm::delta) {
      return Status(StatusCode::invalid_argument, "fedbuff takes deltas, not whole models");
    }
    const double weight = scale / std::sqrt(1.0 + static_cast<double>(arrival.staleness));
    EDGEFL_RETURN_IF_ERROR(buffer_.add(arrival.values, weight));
    if (buffer_.count() < settings_.buffer_size) return false;
    EDGEFL_RETURN_IF_ERROR(buffer_.scaled_sum_into(mean_, 1.0 / settings_.buffer_size));
    EDGEFL_RETURN_IF_ERROR(optimizer_->apply(global, mean_));
    buffer_.reset();
    return true;
  }

 private:
  StreamingMean buffer_;     // Σ delta/√(1+τ) (clip already applied through the weight)
  FloatBuffer mean_;         // scratch for sum/K
  std::unique_ptr<ServerStrategy> optimizer_;
};

}  // namespace

Result<std::unique_ptr<ServerStrategy>> make_asynchronous(std::string_view name, const StrategySettings& s,
                                                          std::size_t size) {
  if (name == "fedasync") {
    EDGEFL_RETURN_IF_ERROR(validate_unit_interval("alpha", s.alpha, false, true));
    if (!std::isfinite(s.staleness_a) || s.staleness_a < 0.0) {
      return Status(StatusCode::out_of_range, "staleness_a must be finite and >= 0");
    }
    if (!std::isfinite(s.staleness_b) || s.staleness_b < 0.0) {
      return Status(StatusCode::out_of_range, "staleness_b must be finite and >= 0");
    }
    return std::unique_ptr<ServerStrategy>(new FedAsync(size, s));
  }
  if (name == "fedbuff") {
    if (s.buffer_size == 0) return Status(StatusCode::out_of_range, "buffer_size must be >= 1");
    Result<std::unique_ptr<ServerStrategy>> optimizer = make_synchronous(s.buffer_optimizer, s, size);
    if (!optimizer) return optimizer.status().with_context("fedbuff buffer_optimizer");
    return std::unique_ptr<ServerStrategy>(new FedBuff(size, s, std::move(*optimizer)));
  }
  return Status(StatusCode::invalid_argument, "no asynchronous strategy named " + std::string(name));
}

}  // namespace aggregate_detail

Result<std::unique_ptr<ServerStrategy>> make_server_strategy(std::string_view name, const StrategySettings& settings,
                                                             std::size_t parameter_count) {
  const std::string context = "server strategy '" + std::string(name) + "'";
  if (parameter_count == 0) return Status(StatusCode::invalid_argument, context + ": parameter_count is 0");
  EDGEFL_RETURN_IF_ERROR(validate(settings.checks).with_context(context));
  Result<std::unique_ptr<ServerStrategy>> made =
      aggregate_detail::is_synchronous_name(name) ? aggregate_detail::make_synchronous(name, settings, parameter_count)
      : (name == "fedasync" || name == "fedbuff")
          ? aggregate_detail::make_asynchronous(name, settings, parameter_count)
          : Status(StatusCode::unknown_enum, "unknown server strategy '" + std::string(name) +
                                                 "' (fedavg, fedavgm, fedadam, nesterov, diloco, fedasync, fedbuff)");
  if (!made) return made.status().with_context(context);
  return made;
}

}  // namespace edgefl
