// The first ExactMean, kept as the oracle of the fast one: libm calls per value, obviously
// following its definition (floor into a 2^-6 part, the rest rounded to 2^-70). The fast
// ExactMean must give the same bits on every input both accept, and refuse every term this
// one refuses.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "edgefl/aggregate/exact_mean.hpp"
#include "edgefl/aggregate/update_checks.hpp"
#include "edgefl/base/status.hpp"

namespace edgefl::reference {

class ExactMean {
 public:
  explicit ExactMean(std::size_t parameter_count, UpdateChecks checks = {});

  Status add(std::span<const float> delta, uint64_t weight);
  Status mean_into(std::span<float> out) const;
  std::size_t size() const { return high_.size(); }
  // The same 128-bit integer as edgefl::ExactMean::sum_at (high * 2^64 + low, units of 2^-70).
  edgefl::ExactMean::Sum sum_at(std::size_t i) const { return {high_[i], low_[i]}; }

 private:
  std::vector<int64_t> high_;  // sum = high * 2^-6 + low * 2^-70, low in [0, 2^64)
  std::vector<uint64_t> low_;
  std::size_t count_ = 0;
  uint64_t total_weight_ = 0;
  UpdateChecks checks_;
};

}  // namespace edgefl::reference
