#include "edgefl/base/time_source.hpp"

namespace edgefl {

namespace {

class SteadyTimeSource final : public TimeSource {
 public:
  SteadyTime now() const override { return std::chrono::steady_clock::now(); }
};

}  // namespace

TimeSource& steady_time_source() {
  static SteadyTimeSource clock;  // stateless
  return clock;
}

}  // namespace edgefl
