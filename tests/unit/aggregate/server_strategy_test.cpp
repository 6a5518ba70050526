#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include "edgefl/base/rng.hpp"
#include "edgefl/aggregate/server_strategy.hpp"

using namespace edgefl;
using Vec = std::vector<float>;

namespace {

std::unique_ptr<ServerStrategy> make(std::string_view name, const StrategySettings& settings, std::size_t size = 3) {
  Result<std::unique_ptr<ServerStrategy>> made = make_server_strategy(name, settings, size);
  REQUIRE_MESSAGE(made.ok(), made.status().to_string());
  return std::move(*made);
}

void check_close(const Vec& got, const std::vector<double>& want) {
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    CAPTURE(i);
    CHECK(got[i] == doctest::Approx(want[i]).epsilon(1e-6));
  }
}

Vec random_vector(Rng& rng, std::size_t size) {
  Vec out(size);
  for (float& value : out) value = static_cast<float>(rng.normal());
  return out;
}

}  // namespace

TEST_CASE("fedavg: global += server_lr * mean delta") {
  StrategySettings settings;
  Vec global{1, 2, 3};
  REQUIRE(make("fedavg", settings)->apply(global, Vec{0.5f, -1, 0.25f}).ok());
  CHECK(global == Vec{1.5f, 1, 3.25f});
  settings.server_lr = 0.5;
  global = {1, 2, 3};
  REQUIRE(make("fedavg", settings)->apply(global, Vec{0.5f, -1, 0.25f}).ok());
  CHECK(global == Vec{1.25f, 1.5f, 3.125f});
}

TEST_CASE("fedavgm: v = beta v + d, global += lr v") {
  StrategySettings settings;
  settings.momentum = 0.5;
  auto strategy = make("fedavgm", settings);
  Vec global{0, 0, 0};
  REQUIRE(strategy->apply(global, Vec{1, -2, 0.5f}).ok());  // v = [1, -2, 0.5]
  CHECK(global == Vec{1, -2, 0.5f});
  REQUIRE(strategy->apply(global, Vec{1, 0, -0.5f}).ok());  // v = [0.5+1, -1+0, 0.25-0.5]
  CHECK(global == Vec{2.5f, -3, 0.25f});
}

TEST_CASE("fedadam: Reddi et al. adaptive server step") {
  StrategySettings settings;
  settings.beta1 = 0.5;
  settings.beta2 = 0.75;
  settings.tau = 0.5;
  auto strategy = make("fedadam", settings);
  Vec global{0, 0, 0};
  // d = [2, -4, 0]: m = [1, -2, 0], v = 0.25 d^2 = [1, 4, 0], step m/(sqrt v + 0.5) = [1/1.5, -2/2.5, 0]
  REQUIRE(strategy->apply(global, Vec{2, -4, 0}).ok());
  check_close(global, {2.0 / 3.0, -0.8, 0.0});
  // d = [2, 0, 1]: m = [1.5, -1, 0.5], v = 0.75 v + 0.25 d^2 = [1.75, 3, 0.25]
  // step = [1.5/(sqrt 1.75 + 0.5), -1/(sqrt 3 + 0.5), 0.5/(0.5 + 0.5)] = [0.8228757, -0.4480185, 0.5]
  REQUIRE(strategy->apply(global, Vec{2, 0, 1}).ok());
  check_close(global, {1.4895423, -1.2480185, 0.5});
}

TEST_CASE("nesterov: PyTorch SGD nesterov on the pseudo-gradient, as docs/algorithms.md 2.2") {
  StrategySettings settings;
  settings.momentum = 0.5;
  for (double lr : {1.0, 0.5}) {
    CAPTURE(lr);
    settings.server_lr = lr;
    auto strategy = make("nesterov", settings);
    Vec global{0, 0, 0};
    // d = [1, -2, 0.5] -> Δ = [-1, 2, -0.5]; v = Δ; z -= γ(Δ + 0.5 v) = z + γ[1.5, -3, 0.75]
    REQUIRE(strategy->apply(global, Vec{1, -2, 0.5f}).ok());
    check_close(global, {1.5 * lr, -3 * lr, 0.75 * lr});
    // d = [1, 0, -0.5] -> Δ = [-1, 0, 0.5]; v = 0.5[-1, 2, -0.5] + Δ = [-1.5, 1, 0.25]
    // Δ + 0.5 v = [-1.75, 0.5, 0.625]; z -= γ that
    REQUIRE(strategy->apply(global, Vec{1, 0, -0.5f}).ok());
    check_close(global, {3.25 * lr, -3.5 * lr, 0.125 * lr});
  }
  CHECK(make("diloco", settings)->name() == "nesterov");
}

TEST_CASE("equivalences: nesterov with lr 1, momentum 0 and fedavgm with momentum 0 are fedavg") {
  const std::size_t size = 64;
  StrategySettings settings;
  settings.momentum = 0.0;
  auto fedavg = make("fedavg", settings, size);
  auto nesterov = make("nesterov", settings, size);
  auto fedavgm = make("fedavgm", settings, size);
  Rng rng(7);
  Vec a = random_vector(rng, size), b = a, c = a;
  for (int round = 0; round < 5; ++round) {
    Vec delta = random_vector(rng, size);
    REQUIRE(fedavg->apply(a, delta).ok());
    REQUIRE(nesterov->apply(b, delta).ok());
    REQUIRE(fedavgm->apply(c, delta).ok());
  }
  CHECK(a == b);  // bit-identical, not just close
  CHECK(a == c);
}

TEST_CASE("fedasync: alpha times the staleness function, constant, polynomial and hinge") {
  StrategySettings settings;
  settings.alpha = 0.5;
  struct Case {
    StalenessFunction function;
    std::uint64_t staleness;
    Vec want;
  };
  settings.staleness_a = 0.5;
  settings.staleness_b = 2;
  // x = [1, 2, 3], delta = [2, -2, 0]: x += alpha_t delta
  const Case cases[] = {
      {StalenessFunction::constant, 3, {2, 1, 3}},        // alpha_t = 0.5
      {StalenessFunction::polynomial, 3, {1.5f, 1.5f, 3}},  // 0.5 * (1+3)^-0.5 = 0.25
      {StalenessFunction::polynomial, 0, {2, 1, 3}},      // 0.5 * 1
  };
  for (const Case& c : cases) {
    settings.staleness_function = c.function;
    Vec x{1, 2, 3};
    Result<bool> changed = make("fedasync", settings)->arrive(x, {Vec{2, -2, 0}, UpdateForm::delta, c.staleness});
    REQUIRE(changed.ok());
    CHECK(*changed);
    CHECK(x == c.want);
  }
  settings.staleness_function = StalenessFunction::hinge;
  settings.staleness_a = 4;
  Vec x{1, 2, 3};
  // hinge a = 4, b = 2, staleness 3: s = 1/(4(3-2)+1) = 0.2 -> alpha_t = 0.1
  REQUIRE(make("fedasync", settings)->arrive(x, {Vec{2, -2, 0}, UpdateForm::delta, 3}).ok());
  check_close(x, {1.2, 1.8, 3});
  CHECK(staleness_factor(StalenessFunction::hinge, 2, 4, 2) == 1.0);  // at the knee: still 1
  CHECK(staleness_factor(StalenessFunction::hinge, 6, 4, 2) == doctest::Approx(1.0 / 17));
}

TEST_CASE("fedasync: model-form updates mix x = (1 - alpha_t) x + alpha_t x_new") {
  StrategySettings settings;
  settings.alpha = 0.5;
  settings.staleness_function = StalenessFunction::constant;
  Vec x{1, 2, 3};
  REQUIRE(make("fedasync", settings)->arrive(x, {Vec{3, 0, 3}, UpdateForm::model, 9}).ok());
  CHECK(x == Vec{2, 1, 3});
  // The norm bound applies to x_new - x, not to the model: |[4, 0, 0]| = 4 > 2 -> clipped to 2
  settings.checks.max_l2_norm = 2;
  settings.checks.clip_to_norm = true;
  x = {1, 2, 3};
  REQUIRE(make("fedasync", settings)->arrive(x, {Vec{5, 2, 3}, UpdateForm::model, 0}).ok());
  CHECK(x == Vec{2, 2, 3});  // x + 0.5 * 0.5 * [4, 0, 0]
}

TEST_CASE("fedbuff: K staleness-weighted deltas, applied with the buffer optimizer every K arrivals") {
  StrategySettings settings;
  settings.buffer_size = 2;
  auto strategy = make("fedbuff", settings);
  Vec global{0, 0, 0};
  Result<bool> first = strategy->arrive(global, {Vec{2, 4, -2}, UpdateForm::delta, 0});  // weight 1
  REQUIRE(first.ok());
  CHECK_FALSE(*first);
  CHECK(global == Vec{0, 0, 0});
  // staleness 3: weight 1/sqrt(4) = 0.5; sum = [2 + 1.5, 4 + 0, -2 + 1.5] = [3.5, 4, -0.5]; /K
  Result<bool> second = strategy->arrive(global, {Vec{3, 0, 3}, UpdateForm::delta, 3});
  REQUIRE(second.ok());
  CHECK(*second);
  CHECK(global == Vec{1.75f, 2, -0.25f});
  // The buffer starts empty again.
  REQUIRE(strategy->arrive(global, {Vec{4, 4, 4}, UpdateForm::delta, 0}).ok());
  CHECK(global == Vec{1.75f, 2, -0.25f});
  CHECK(strategy->arrive(global, {Vec{1, 1, 1}, UpdateForm::model, 0}).status().code() ==
        StatusCode::invalid_argument);
}

TEST_CASE("async strategies refuse updates older than max_staleness without touching the model") {
  for (const std::string name : {"fedasync", "fedbuff"}) {
    CAPTURE(name);
    StrategySettings settings;
    settings.max_staleness = 5;
    settings.buffer_size = 1;
    auto strategy = make(name, settings);
    Vec global{1, 1, 1};
    Result<bool> old = strategy->arrive(global, {Vec{1, 1, 1}, UpdateForm::delta, 6});
    CHECK(old.status().code() == StatusCode::stale);
    CHECK(global == Vec{1, 1, 1});
    CHECK(strategy->arrive(global, {Vec{1, 1, 1}, UpdateForm::delta, 5}).ok());
    const float nan = std::numeric_limits<float>::quiet_NaN();
    Vec before = global;
    CHECK(strategy->arrive(global, {Vec{0, nan, 0}, UpdateForm::delta, 0}).status().code() == StatusCode::non_finite);
    CHECK(strategy->arrive(global, {Vec{0, 0}, UpdateForm::delta, 0}).status().code() == StatusCode::shape_mismatch);
    CHECK(global == before);
  }
}

TEST_CASE("sync strategies reject a bad mean and the wrong call, async strategies the other") {
  StrategySettings settings;
  auto fedavg = make("fedavg", settings);
  Vec global{1, 2, 3};
  CHECK(fedavg->apply(global, Vec{std::numeric_limits<float>::infinity(), 0, 0}).code() == StatusCode::non_finite);
  CHECK(fedavg->apply(global, Vec{1, 1}).code() == StatusCode::shape_mismatch);
  Vec short_global{1, 2};
  CHECK(fedavg->apply(short_global, Vec{1, 1, 1}).code() == StatusCode::shape_mismatch);
  CHECK(global == Vec{1, 2, 3});
  CHECK(fedavg->arrive(global, {Vec{1, 1, 1}}).status().code() == StatusCode::failed_precondition);
  CHECK_FALSE(fedavg->asynchronous());
  auto fedasync = make("fedasync", settings);
  CHECK(fedasync->apply(global, Vec{1, 1, 1}).code() == StatusCode::failed_precondition);
  CHECK(fedasync->asynchronous());
}

TEST_CASE("factory: unknown names and out-of-range settings are named in the error") {
  StrategySettings good;
  Result<std::unique_ptr<ServerStrategy>> unknown = make_server_strategy("fedprox", good, 3);
  CHECK(unknown.status().code() == StatusCode::unknown_enum);
  CHECK(unknown.status().message().find("fedprox") != std::string::npos);
  CHECK(make_server_strategy("fedavg", good, 0).status().code() == StatusCode::invalid_argument);

  struct Bad {
    const char* name;
    void (*spoil)(StrategySettings&);
    const char* mentions;
  };
  const Bad bad[] = {
      {"fedavgm", [](StrategySettings& s) { s.momentum = 1.0; }, "momentum"},
      {"nesterov", [](StrategySettings& s) { s.momentum = -0.1; }, "momentum"},
      {"fedavg", [](StrategySettings& s) { s.server_lr = 0; }, "server_lr"},
      {"diloco", [](StrategySettings& s) { s.server_lr = std::nan(""); }, "server_lr"},
      {"fedadam", [](StrategySettings& s) { s.beta2 = 1.0; }, "beta2"},
      {"fedadam", [](StrategySettings& s) { s.tau = 0; }, "tau"},
      {"fedasync", [](StrategySettings& s) { s.alpha = 0; }, "alpha"},
      {"fedasync", [](StrategySettings& s) { s.alpha = 1.5; }, "alpha"},
      {"fedasync", [](StrategySettings& s) { s.staleness_a = -1; }, "staleness_a"},
      {"fedbuff", [](StrategySettings& s) { s.buffer_size = 0; }, "buffer_size"},
      {"fedbuff", [](StrategySettings& s) { s.buffer_optimizer = "fedasync"; }, "buffer_optimizer"},
      {"fedbuff", [](StrategySettings& s) { s.momentum = 2; s.buffer_optimizer = "fedavgm"; }, "momentum"},
      {"fedavg", [](StrategySettings& s) { s.checks.max_l2_norm = -1; }, "max_l2_norm"},
  };
  for (const Bad& b : bad) {
    StrategySettings settings;
    b.spoil(settings);
    Result<std::unique_ptr<ServerStrategy>> made = make_server_strategy(b.name, settings, 3);
    REQUIRE_FALSE(made.ok());
    CHECK_MESSAGE(made.status().message().find(b.mentions) != std::string::npos, made.status().to_string());
  }
  // Settings a strategy does not use do not block it.
  StrategySettings unused;
  unused.alpha = 7;
  CHECK(make_server_strategy("fedavg", unused, 3).ok());
  CHECK(parse_staleness_function("hinge").ok());
  CHECK(parse_staleness_function("linear").status().code() == StatusCode::unknown_enum);
}

TEST_CASE("state round trip: a restored strategy continues bit-identically") {
  const std::size_t size = 16;
  StrategySettings settings;
  settings.buffer_size = 3;
  settings.buffer_optimizer = "fedavgm";
  for (const std::string name : {"fedavg", "fedavgm", "fedadam", "nesterov", "fedasync", "fedbuff"}) {
    CAPTURE(name);
    auto original = make(name, settings, size);
    Rng rng(11);
    Vec global = random_vector(rng, size);
    auto step = [&](ServerStrategy& strategy, Vec& model, const Vec& delta, std::uint64_t staleness) {
      if (strategy.asynchronous()) {
        REQUIRE(strategy.arrive(model, {delta, UpdateForm::delta, staleness}).ok());
      } else {
        REQUIRE(strategy.apply(model, delta).ok());
      }
    };
    for (int i = 0; i < 4; ++i) step(*original, global, random_vector(rng, size), i);  // fedbuff: 1 buffered

    StrategyState state = original->save_state();
    auto restored = make(name, settings, size);
    REQUIRE(restored->restore_state(state).ok());
    Vec copy = global;
    for (int i = 0; i < 5; ++i) {
      Vec delta = random_vector(rng, size);
      step(*original, global, delta, 1);
      step(*restored, copy, delta, 1);
    }
    CHECK(global == copy);
  }
}

TEST_CASE("state restore is all-or-nothing and names what is wrong") {
  StrategySettings settings;
  auto fedadam = make("fedadam", settings);
  Vec global{0, 0, 0};
  REQUIRE(fedadam->apply(global, Vec{1, 2, 3}).ok());
  StrategyState good = fedadam->save_state();
  REQUIRE(good.buffers.size() == 2);

  StrategyState missing;
  missing.buffers.emplace_back("fedadam.m", good.buffers[0].second.clone());
  auto target = make("fedadam", settings);
  Status status = target->restore_state(missing);
  CHECK(status.code() == StatusCode::failed_precondition);
  CHECK(status.message().find("fedadam.v") != std::string::npos);
  // m was present but must not have been restored alone.
  for (const auto& [name, buffer] : target->save_state().buffers) {
    for (float value : buffer.span()) CHECK(value == 0.0f);
  }
  auto wide = make("fedadam", settings, 4);
  CHECK(wide->restore_state(good).code() == StatusCode::shape_mismatch);

  settings.buffer_size = 2;
  auto fedbuff = make("fedbuff", settings);
  StrategyState buffered = fedbuff->save_state();
  for (auto& [name, value] : buffered.scalars) {
    if (name == "fedbuff.buffer.count") value = 2;  // a full buffer would have been applied
  }
  CHECK(make("fedbuff", settings)->restore_state(buffered).code() == StatusCode::out_of_range);
}
