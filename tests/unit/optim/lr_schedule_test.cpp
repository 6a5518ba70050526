// Inner learning-rate schedules, pinned to hand-computed values (lr 0.1, W 4, T 12, min 0.02).
#include <doctest/doctest.h>

#include "edgefl/optim/lr_schedule.hpp"

using namespace edgefl;

namespace {

TEST_CASE("constant schedule is the base lr at every step") {
  const LrSchedule s;
  CHECK(scheduled_lr(s, 0.1f, 0) == 0.1f);
  CHECK(scheduled_lr(s, 0.1f, 123456) == 0.1f);
}

TEST_CASE("linear warm-up ramps to the base lr at step W - 1, then holds") {
  const LrSchedule s{.kind = LrScheduleKind::linear_warmup, .warmup_steps = 4};
  CHECK(scheduled_lr(s, 0.1f, 0) == doctest::Approx(0.025).epsilon(1e-6));
  CHECK(scheduled_lr(s, 0.1f, 1) == doctest::Approx(0.05).epsilon(1e-6));
  CHECK(scheduled_lr(s, 0.1f, 3) == doctest::Approx(0.1).epsilon(1e-6));
  CHECK(scheduled_lr(s, 0.1f, 10) == 0.1f);
}

TEST_CASE("cosine schedule: warm-up, then a half cosine from lr to min between steps W and T, then min") {
  const LrSchedule s{.kind = LrScheduleKind::cosine, .warmup_steps = 4, .total_steps = 12, .min_lr = 0.02f};
  CHECK(scheduled_lr(s, 0.1f, 0) == doctest::Approx(0.025).epsilon(1e-6));
  CHECK(scheduled_lr(s, 0.1f, 4) == doctest::Approx(0.1).epsilon(1e-6));
  CHECK(scheduled_lr(s, 0.1f, 6) == doctest::Approx(0.0882842712).epsilon(1e-6));  // 0.02 + 0.08 (1 + cos pi/4) / 2
  CHECK(scheduled_lr(s, 0.1f, 8) == doctest::Approx(0.06).epsilon(1e-6));
  CHECK(scheduled_lr(s, 0.1f, 12) == 0.02f);
  CHECK(scheduled_lr(s, 0.1f, 1000) == 0.02f);
}

TEST_CASE("schedule settings are checked and named") {
  CHECK(validate(LrSchedule{}, 0.1f).ok());
  CHECK(validate(LrSchedule{.kind = LrScheduleKind::linear_warmup}, 0.1f).code() == StatusCode::invalid_argument);
  const LrSchedule short_cosine{.kind = LrScheduleKind::cosine, .warmup_steps = 10, .total_steps = 10};
  Status bad = validate(short_cosine, 0.1f);
  CHECK(bad.code() == StatusCode::invalid_argument);
  CHECK(bad.message().find("lr_total_steps") != std::string::npos);
  CHECK(validate(LrSchedule{.kind = LrScheduleKind::cosine, .total_steps = 5, .min_lr = 0.2f}, 0.1f).code() ==
        StatusCode::invalid_argument);
  CHECK(parse_lr_schedule("cosine").value() == LrScheduleKind::cosine);
  CHECK(parse_lr_schedule("linear").status().code() == StatusCode::invalid_argument);
}

}  // namespace
