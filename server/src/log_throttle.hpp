// LogThrottle: at most one line per interval for a kind of event a peer can trigger at will
// (junk messages), so a flood cannot fill the disk with warnings; the next line says how many
// were left out.
//
//   LogThrottle junk(std::chrono::seconds(1));
//   if (std::optional<std::string> line = junk.admit(now, "undecodable message: ...")) warn(*line);
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "edgefl/base/time_source.hpp"

namespace edgefl::server {

class LogThrottle {
 public:
  explicit LogThrottle(std::chrono::steady_clock::duration interval) : interval_(interval) {}

  // The line to log now (with the count of lines left out since the last one), or nullopt.
  std::optional<std::string> admit(SteadyTime now, std::string line) {
    if (logged_once_ && now - last_ < interval_) {
      ++suppressed_;
      return std::nullopt;
    }
    if (suppressed_ > 0) line += " (" + std::to_string(suppressed_) + " more like it not logged)";
    logged_once_ = true;
    last_ = now;
    suppressed_ = 0;
    return line;
  }

 private:
  std::chrono::steady_clock::duration interval_;
  bool logged_once_ = false;
  SteadyTime last_{};
  uint64_t suppressed_ = 0;
};

}  // namespace edgefl::server
