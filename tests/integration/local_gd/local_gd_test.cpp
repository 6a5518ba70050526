// Local-GD with many local steps on overparameterised linear regression (docs/local_gd.md,
// case R1) through the real server and devices: full-batch local GD from w0 = 0 with uniform
// averaging reaches the minimum-norm interpolator, and ten local steps need less than half
// the rounds of one.
#include <doctest/doctest.h>

#include "local_gd_run.hpp"
#include "temp_dir.hpp"

namespace edgefl::sim {
namespace {

TEST_CASE("Local-GD R1: L = 1 and L = 10 reach the min-norm interpolator, L = 10 in under half the rounds") {
  const testing::TempDir tmp;
  LocalGdOptions o;
  o.kase = "r1";
  o.rounds = 1000;
  o.target = 1e-4;
  o.stop_at_target = true;
  o.time_limit_s = 500;
  o.work_dir = tmp.path();
  auto problem = make_local_gd_problem(o);
  REQUIRE(problem.ok());
  CHECK(problem->step > 0);

  uint64_t rounds[2] = {0, 0};
  const uint32_t local_steps[2] = {1, 10};
  for (int i = 0; i < 2; ++i) {
    double first_error = 0;
    auto summary = run_local_gd(o, *problem, local_steps[i], [&](const LocalGdRound& r) {
      if (r.round == 1) first_error = r.rel_error;
    });
    REQUIRE(summary.ok());
    INFO("L = " << local_steps[i] << ", rounds " << summary->rounds << ", error " << summary->final_rel_error);
    CHECK(summary->status.ok());
    CHECK(first_error > 0.5);  // w0 = 0 starts at relative error 1
    CHECK(summary->rounds_to_target > 0);
    CHECK(summary->final_rel_error <= 1e-4);
    rounds[i] = summary->rounds_to_target;
  }
  CHECK(rounds[1] > 0);
  CHECK(2 * rounds[1] < rounds[0]);
}

}  // namespace
}  // namespace edgefl::sim
