// Local-GD fine-tuning of a pretrained CNN's head (docs/local_gd.md, case R3) through the real
// server and devices: with one local step it is centralised GD on the pooled nodes, which the
// run checks round by round. This needs every piece of the path: ten devices with data of
// their own (distinct ids), the coordinator started from the pretrained network, and devices
// training the head on their cached features of the frozen layers.
#include <doctest/doctest.h>

#include "fine_tune_run.hpp"
#include "temp_dir.hpp"

namespace edgefl::sim {
namespace {

TEST_CASE(
    "Local-GD R3: one local step fine-tunes the head as centralised GD does, round by round") {
  const testing::TempDir tmp;
  FineTuneOptions o;
  o.rounds = 5;
  o.pretrain_samples = 3000;
  o.time_limit_s = 60;
  o.work_dir = tmp.path();
  auto problem = make_fine_tune_problem(o);
  REQUIRE_MESSAGE(problem.ok(), problem.status().to_string());
  CHECK(problem->pooled.size() == 500);
  CHECK(problem->pretrain_accuracy > 0.5);  // five classes: chance is 0.2

  std::vector<FineTuneRound> rounds;
  auto summary =
      run_fine_tune(o, *problem, 1, [&](const FineTuneRound& r) { rounds.push_back(r); });
  REQUIRE_MESSAGE(summary.ok(), summary.status().to_string());
  CHECK(summary->status.ok());
  REQUIRE(rounds.size() == 5);
  for (const FineTuneRound& r : rounds) {
    INFO("round " << r.round << ": loss " << r.train_loss << " (centralised "
                  << r.central_train_loss << "), cosine " << r.head_cos_central);
    CHECK(r.head_cos_central > 1 - 1e-6);
    CHECK(r.train_loss == doctest::Approx(r.central_train_loss).epsilon(1e-4));
  }
  CHECK(rounds.back().train_loss < rounds.front().train_loss);
}

}  // namespace
}  // namespace edgefl::sim
