#include "edgefl/optim/lr_schedule.hpp"

#include <cmath>
#include <numbers>
#include <string>

namespace edgefl {

std::string_view lr_schedule_name(LrScheduleKind kind) {
  switch (kind) {
    case LrScheduleKind::constant: return "constant";
    case LrScheduleKind::linear_warmup: return "linear_warmup";
    case LrScheduleKind::cosine: return "cosine";
  }
  return "unknown";
}

Result<LrScheduleKind> parse_lr_schedule(std::string_view name) {
  for (LrScheduleKind kind : {LrScheduleKind::constant, LrScheduleKind::linear_warmup, LrScheduleKind::cosine}) {
    if (name == lr_schedule_name(kind)) return kind;
  }
  return make_status(StatusCode::invalid_argument,
                     "lr schedule '" + std::string(name) + "' is not constant, linear_warmup or cosine");
}

Status validate(const LrSchedule& s, float lr) {
  auto invalid = [](const std::string& message) { return make_status(StatusCode::invalid_argument, message); };
  switch (s.kind) {
    case LrScheduleKind::constant:
      return Status();
    case LrScheduleKind::linear_warmup:
      if (s.warmup_steps == 0) return invalid("lr schedule linear_warmup needs lr_warmup_steps >= 1");
      return Status();
    case LrScheduleKind::cosine:
      if (s.total_steps <= s.warmup_steps) {
        return invalid("lr schedule cosine needs lr_total_steps (" + std::to_string(s.total_steps) +
                       ") > lr_warmup_steps (" + std::to_string(s.warmup_steps) + ")");
      }
      if (!(std::isfinite(s.min_lr) && s.min_lr >= 0.0f && s.min_lr <= lr)) {
        return invalid("lr schedule cosine needs 0 <= lr_min (" + std::to_string(s.min_lr) +
                       ") <= the learning rate (" + std::to_string(lr) + ")");
      }
      return Status();
  }
  return invalid("unknown lr schedule kind " + std::to_string(static_cast<int>(s.kind)));
}

float scheduled_lr(const LrSchedule& s, float lr, uint64_t step) {
  if (s.kind == LrScheduleKind::constant) return lr;
  if (step < s.warmup_steps) {
    return static_cast<float>(double(lr) * double(step + 1) / double(s.warmup_steps));
  }
  if (s.kind == LrScheduleKind::linear_warmup) return lr;
  if (step >= s.total_steps) return s.min_lr;
  const double progress = double(step - s.warmup_steps) / double(s.total_steps - s.warmup_steps);
  const double cosine = 0.5 * (1.0 + std::cos(std::numbers::pi * progress));
  return static_cast<float>(double(s.min_lr) + (double(lr) - double(s.min_lr)) * cosine);
}

}  // namespace edgefl
