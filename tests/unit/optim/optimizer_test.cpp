#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "edgefl/base/float_buffer.hpp"
#include "edgefl/optim/optimizer.hpp"

using namespace edgefl;

namespace {

// Runs `steps` steps on w with gradient g(w) = w - target and returns w.
std::vector<double> run_double(OptimizerConfig c, int steps) {
  std::vector<double> w = {1.0, -2.0, 0.5}, target = {0.3, 0.1, -0.4}, m(3, 0), v(3, 0);
  for (int t = 1; t <= steps; ++t) {
    for (int i = 0; i < 3; ++i) {
      double g = w[i] - target[i];
      switch (c.kind) {
        case OptimizerKind::sgd: w[i] -= c.lr * (g + c.weight_decay * w[i]); break;
        case OptimizerKind::momentum: g += c.weight_decay * w[i]; m[i] = c.momentum * m[i] + g; w[i] -= c.lr * m[i]; break;
        case OptimizerKind::nesterov: g += c.weight_decay * w[i]; m[i] = c.momentum * m[i] + g; w[i] -= c.lr * (g + c.momentum * m[i]); break;
        case OptimizerKind::adamw: {
          w[i] *= 1 - c.lr * c.weight_decay;
          m[i] = c.beta1 * m[i] + (1 - c.beta1) * g;
          v[i] = c.beta2 * v[i] + (1 - c.beta2) * g * g;
          double mh = m[i] / (1 - std::pow(c.beta1, t)), vh = v[i] / (1 - std::pow(c.beta2, t));
          w[i] -= c.lr * mh / (std::sqrt(vh) + c.eps);
        }
      }
    }
  }
  return w;
}

// Parameter i follows the same problem as parameter i % 3 of the double reference.
void step_float(Optimizer& opt, FloatBuffer& w) {
  const float target[3] = {0.3f, 0.1f, -0.4f};
  FloatBuffer g(w.size());
  for (std::size_t i = 0; i < w.size(); ++i) g[i] = w[i] - target[i % 3];
  REQUIRE(opt.step(w.span(), g.span()).ok());
}

}  // namespace

TEST_CASE("optimizers follow the PyTorch update rules") {
  for (OptimizerKind kind : {OptimizerKind::sgd, OptimizerKind::momentum, OptimizerKind::nesterov, OptimizerKind::adamw}) {
    // 1003 parameters also run the vectorised body of the update loops, not only their tail.
    for (std::size_t n : {std::size_t{3}, std::size_t{1003}}) {
      OptimizerConfig c{kind, 0.05f, 0.9f, 0.01f, 0.9f, 0.999f, 1e-8f};
      auto opt = Optimizer::create(c, n);
      REQUIRE(opt.ok());
      CHECK(opt->state().size() == optimizer_state_floats(kind, n));
      FloatBuffer w(n);
      const float w0[3] = {1.0f, -2.0f, 0.5f};
      for (std::size_t i = 0; i < n; ++i) w[i] = w0[i % 3];
      for (int t = 0; t < 20; ++t) step_float(*opt, w);
      auto expected = run_double(c, 20);
      INFO(optimizer_name(kind), " with ", n, " parameters");
      for (std::size_t i = 0; i < n; ++i) REQUIRE(w[i] == doctest::Approx(expected[i % 3]).epsilon(1e-5));
      CHECK(opt->steps() == 20);
    }
  }
}

TEST_CASE("optimizer state saved and restored continues bit-identically") {
  for (OptimizerKind kind : {OptimizerKind::nesterov, OptimizerKind::adamw}) {
    OptimizerConfig c{kind, 0.01f, 0.9f, 0.1f, 0.9f, 0.99f, 1e-8f};
    auto a = Optimizer::create(c, 3);
    REQUIRE(a.ok());
    FloatBuffer w(3);
    w.fill(1.0f);
    for (int t = 0; t < 5; ++t) step_float(*a, w);
    FloatBuffer saved_state(a->state().size());
    saved_state.assign(a->state());
    FloatBuffer saved_w = w.clone();
    for (int t = 0; t < 5; ++t) step_float(*a, w);

    auto b = Optimizer::create(c, 3);
    REQUIRE(b->restore(saved_state.span(), 5).ok());
    for (int t = 0; t < 5; ++t) step_float(*b, saved_w);
    for (int i = 0; i < 3; ++i) CHECK(saved_w[i] == w[i]);
    FloatBuffer wrong(1);
    CHECK(b->restore(wrong.span(), 1).code() == StatusCode::shape_mismatch);
    b->reset();
    CHECK(b->steps() == 0);
  }
}

TEST_CASE("optimizer rejects bad configs and shapes") {
  CHECK(!Optimizer::create({OptimizerKind::sgd, -1.0f}, 3).ok());
  CHECK(!Optimizer::create({OptimizerKind::sgd, NAN}, 3).ok());
  CHECK(!Optimizer::create({OptimizerKind::momentum, 0.1f, 1.0f}, 3).ok());
  CHECK(!Optimizer::create({OptimizerKind::adamw, 0.1f, 0.9f, 0.0f, 0.9f, 0.999f, 0.0f}, 3).ok());
  auto opt = Optimizer::create({OptimizerKind::sgd, 0.1f}, 3);
  FloatBuffer w(3), g(2);
  CHECK(opt->step(w.span(), g.span()).code() == StatusCode::shape_mismatch);
  CHECK(opt->set_config({OptimizerKind::adamw, 0.1f}).code() == StatusCode::failed_precondition);
  CHECK(parse_optimizer("adamw").ok());
  CHECK(parse_optimizer("adam").status().code() == StatusCode::invalid_argument);
}
