// fedavg, fedavgm, fedadam, nesterov: one outer step per round on the mean delta d.
// Formulas and the delta/pseudo-gradient convention: server_strategy.hpp.
#include <cmath>

#include "strategy_base.hpp"

namespace edgefl::aggregate_detail {

namespace {

class FedAvg final : public SynchronousStrategy {
 public:
  FedAvg(std::size_t size, const StrategySettings& s) : SynchronousStrategy("fedavg", size), lr_(float(s.server_lr)) {}

 protected:
  void step(std::span<float> global, std::span<const float> d) override {
    for (std::size_t i = 0; i < d.size(); ++i) global[i] += lr_ * d[i];
  }

 private:
  float lr_;
};

class FedAvgM final : public SynchronousStrategy {
 public:
  FedAvgM(std::size_t size, const StrategySettings& s)
      : SynchronousStrategy("fedavgm", size), lr_(float(s.server_lr)), beta_(float(s.momentum)),
        velocity_(add_state_buffer("velocity")) {}

 protected:
  void step(std::span<float> global, std::span<const float> d) override {
    float* v = velocity_.data();
    for (std::size_t i = 0; i < d.size(); ++i) {
      v[i] = beta_ * v[i] + d[i];
      global[i] += lr_ * v[i];
    }
  }

 private:
  float lr_, beta_;
  FloatBuffer& velocity_;
};

class FedAdam final : public SynchronousStrategy {
 public:
  FedAdam(std::size_t size, const StrategySettings& s)
      : SynchronousStrategy("fedadam", size), lr_(float(s.server_lr)), beta1_(float(s.beta1)), beta2_(float(s.beta2)),
        tau_(float(s.tau)), m_(add_state_buffer("m")), v_(add_state_buffer("v")) {}

 protected:
  void step(std::span<float> global, std::span<const float> d) override {
    float* m = m_.data();
    float* v = v_.data();
    for (std::size_t i = 0; i < d.size(); ++i) {
      m[i] = beta1_ * m[i] + (1.0f - beta1_) * d[i];
      v[i] = beta2_ * v[i] + (1.0f - beta2_) * d[i] * d[i];
      global[i] += lr_ * m[i] / (std::sqrt(v[i]) + tau_);
    }
  }

 private:
  float lr_, beta1_, beta2_, tau_;
  FloatBuffer& m_;
  FloatBuffer& v_;
};

// PyTorch SGD(momentum=μ, nesterov=True, dampening=0) on the pseudo-gradient Δ = −d; the
// buffer holds PyTorch's v (pseudo-gradient sign), as in the DiLoCo/PALSGD code.
class Nesterov final : public SynchronousStrategy {
 public:
  Nesterov(std::size_t size, const StrategySettings& s)
      : SynchronousStrategy("nesterov", size), lr_(float(s.server_lr)), mu_(float(s.momentum)),
        momentum_(add_state_buffer("momentum")) {}

 protected:
  void step(std::span<float> global, std::span<const float> d) override {
    float* v = momentum_.data();
    for (std::size_t i = 0; i < d.size(); ++i) {
      const float pseudo_gradient = -d[i];
      v[i] = mu_ * v[i] + pseudo_gradient;
      global[i] -= lr_ * (pseudo_gradient + mu_ * v[i]);
    }
  }

 private:
  float lr_, mu_;
  FloatBuffer& momentum_;
};

}  // namespace

bool is_synchronous_name(std::string_view name) {
  return name == "fedavg" || name == "fedavgm" || name == "nesterov" || name == "diloco" || name == "fedadam";
}

Result<std::unique_ptr<ServerStrategy>> make_synchronous(std::string_view name, const StrategySettings& s,
                                                         std::size_t size) {
  if (!is_synchronous_name(name)) {
    return Status(StatusCode::invalid_argument, "'" + std::string(name) +
                                                    "' is not a synchronous strategy (fedavg, fedavgm, fedadam, nesterov)");
  }
  EDGEFL_RETURN_IF_ERROR(validate_positive("server_lr", s.server_lr));
  if (name == "fedavg") return std::unique_ptr<ServerStrategy>(new FedAvg(size, s));
  if (name == "fedavgm" || name == "nesterov" || name == "diloco") {
    EDGEFL_RETURN_IF_ERROR(validate_unit_interval("momentum", s.momentum, true, false));
    if (name == "fedavgm") return std::unique_ptr<ServerStrategy>(new FedAvgM(size, s));
    return std::unique_ptr<ServerStrategy>(new Nesterov(size, s));
  }
  EDGEFL_RETURN_IF_ERROR(validate_unit_interval("beta1", s.beta1, true, false));  // fedadam from here
  EDGEFL_RETURN_IF_ERROR(validate_unit_interval("beta2", s.beta2, true, false));
  EDGEFL_RETURN_IF_ERROR(validate_positive("tau", s.tau));
  return std::unique_ptr<ServerStrategy>(new FedAdam(size, s));
}

}  // namespace edgefl::aggregate_detail
