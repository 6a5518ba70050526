// LrSchedule: the inner learning rate of one global step, the same on every device.
//
//   edgefl::LrSchedule s{.kind = edgefl::LrScheduleKind::cosine, .warmup_steps = 100,
//                        .total_steps = 5000, .min_lr = 1e-5f};
//   EDGEFL_RETURN_IF_ERROR(validate(s, base_lr));
//   float lr = scheduled_lr(s, base_lr, global_step);
//
// Steps are global (a Task carries the index of its first step), so a device that joins late
// or reboots is on the same point of the schedule as the others.
//   constant        lr
//   linear_warmup   lr · (t + 1) / W for t < W, then lr
//   cosine          the same warm-up, then min + (lr − min) · (1 + cos(π (t − W) / (T − W))) / 2
//                   for W <= t < T, and min from T on
// The warm-up reaches lr at step W − 1 (its first step trains, unlike a ramp from 0).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "edgefl/base/status.hpp"

namespace edgefl {

enum class LrScheduleKind : uint8_t { constant = 0, linear_warmup = 1, cosine = 2 };  // stable: on the wire

std::string_view lr_schedule_name(LrScheduleKind kind);
Result<LrScheduleKind> parse_lr_schedule(std::string_view name);  // "constant", "linear_warmup", "cosine"

struct LrSchedule {
  LrScheduleKind kind = LrScheduleKind::constant;
  uint64_t warmup_steps = 0;  // W (linear_warmup, cosine)
  uint64_t total_steps = 0;   // T (cosine): the step the decay reaches min_lr
  float min_lr = 0.0f;        // cosine floor
  bool operator==(const LrSchedule&) const = default;
};

// invalid_argument naming the setting: linear_warmup needs W >= 1; cosine needs T > W and
// 0 <= min_lr <= lr.
Status validate(const LrSchedule& schedule, float lr);

float scheduled_lr(const LrSchedule& schedule, float lr, uint64_t step);

}  // namespace edgefl
