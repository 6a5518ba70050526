#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <optional>
#include <string>

#include "edgefl/base/timing.hpp"

using edgefl::StatusCode;

namespace {

// Sets EDGEFL_TIME_SCALE for one test case and puts the previous value back.
class ScopedTimeScaleEnv {
 public:
  explicit ScopedTimeScaleEnv(const char* value) {
    if (const char* old = std::getenv(kName)) previous_ = old;
    if (value == nullptr) {
      ::unsetenv(kName);
    } else {
      ::setenv(kName, value, 1);
    }
  }
  ~ScopedTimeScaleEnv() {
    if (previous_) {
      ::setenv(kName, previous_->c_str(), 1);
    } else {
      ::unsetenv(kName);
    }
  }
  ScopedTimeScaleEnv(const ScopedTimeScaleEnv&) = delete;
  ScopedTimeScaleEnv& operator=(const ScopedTimeScaleEnv&) = delete;

 private:
  static constexpr const char* kName = "EDGEFL_TIME_SCALE";
  std::optional<std::string> previous_;
};

}  // namespace

TEST_CASE("timing: parse_time_scale accepts numbers from 1 to the maximum") {
  CHECK(edgefl::parse_time_scale("1").value() == 1.0);
  CHECK(edgefl::parse_time_scale("20").value() == 20.0);
  CHECK(edgefl::parse_time_scale("2.5").value() == 2.5);
  CHECK(edgefl::parse_time_scale("1000").value() == edgefl::kMaxTimeScale);
}

TEST_CASE("timing: parse_time_scale names the variable and the bad value") {
  for (const char* text : {"", "fast", "20x", " 20", "nan", "inf"}) {
    CAPTURE(text);
    auto scale = edgefl::parse_time_scale(text);
    REQUIRE_FALSE(scale.ok());
    CHECK(scale.status().code() == StatusCode::invalid_argument);
    CHECK(scale.status().message().find("EDGEFL_TIME_SCALE") != std::string::npos);
  }
  for (const char* text : {"0", "0.5", "-3", "1000.5"}) {
    CAPTURE(text);
    auto scale = edgefl::parse_time_scale(text);
    REQUIRE_FALSE(scale.ok());
    CHECK(scale.status().code() == StatusCode::out_of_range);
    CHECK(scale.status().message().find(text) != std::string::npos);
  }
}

TEST_CASE("timing: time_scale_from_env defaults to 1 and reads EDGEFL_TIME_SCALE") {
  {
    ScopedTimeScaleEnv env(nullptr);
    CHECK(edgefl::time_scale_from_env().value() == 1.0);
  }
  {
    ScopedTimeScaleEnv env("");
    CHECK(edgefl::time_scale_from_env().value() == 1.0);
  }
  {
    ScopedTimeScaleEnv env("12.5");
    CHECK(edgefl::time_scale_from_env().value() == 12.5);
  }
  {
    ScopedTimeScaleEnv env("slow");
    auto scale = edgefl::time_scale_from_env();
    REQUIRE_FALSE(scale.ok());
    CHECK(scale.status().message().find("'slow'") != std::string::npos);
  }
}

TEST_CASE("timing: scaled stretches a duration and never rounds it down") {
  using std::chrono::milliseconds;
  using std::chrono::seconds;
  CHECK(edgefl::scaled(milliseconds(500), 1.0) == milliseconds(500));
  CHECK(edgefl::scaled(milliseconds(500), 20.0) == milliseconds(10000));
  CHECK(edgefl::scaled(seconds(3), 1.5) == seconds(5));       // 4.5 s rounds up
  CHECK(edgefl::scaled(milliseconds(1), 1.0001) == milliseconds(2));
}
