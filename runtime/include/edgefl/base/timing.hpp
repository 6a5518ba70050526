// Time scale: how many times slower than a real device this process runs. edgefl-server and
// edgefl-device read EDGEFL_TIME_SCALE in main() as the default of their `time_scale` setting
// (a configured value wins), which multiplies every deadline, heartbeat interval and time-out,
// so the same code and configured values work on a Pi (scale 1) and under qemu-user (the cross
// builds' emulator command sets EDGEFL_TIME_SCALE=20).
//
//   Result<double> scale = edgefl::time_scale_from_env();    // EDGEFL_TIME_SCALE, default 1
//   if (!scale) return scale.status();                        // e.g. EDGEFL_TIME_SCALE=fast
//   auto heartbeat = edgefl::scaled(std::chrono::milliseconds(500), *scale);
//
// Read it once at start-up (main) and pass the value down: library code never reads the
// environment itself.
#pragma once

#include <chrono>
#include <string_view>

#include "edgefl/base/status.hpp"

namespace edgefl {

inline constexpr std::string_view kTimeScaleEnv = "EDGEFL_TIME_SCALE";
inline constexpr double kMaxTimeScale = 1000.0;

// A decimal number in [1, kMaxTimeScale]; anything else is invalid_argument naming the text.
// Below 1 is refused: it would make deadlines shorter than the tuned defaults.
Result<double> parse_time_scale(std::string_view text);

// EDGEFL_TIME_SCALE parsed as above; 1 when the variable is unset or empty.
Result<double> time_scale_from_env();

// `duration` stretched by `scale`, rounded up so a scaled deadline is never shorter.
template <class Rep, class Period>
std::chrono::duration<Rep, Period> scaled(std::chrono::duration<Rep, Period> duration,
                                          double scale) {
  using Target = std::chrono::duration<Rep, Period>;
  return std::chrono::ceil<Target>(std::chrono::duration<double, Period>(duration) * scale);
}

}  // namespace edgefl
