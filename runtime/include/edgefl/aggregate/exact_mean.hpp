// ExactMean: a weighted mean of deltas whose result does not depend on the order of arrival.
//
//   edgefl::ExactMean mean(params.size(), checks, MeanWeighting::samples);  // or uniform
//   for each accepted update (any order):  EDGEFL_RETURN_IF_ERROR(mean.add(delta, samples));
//   at round close:                        EDGEFL_RETURN_IF_ERROR(mean.mean_into(mean_delta));
//
// Synchronous rounds use this so that two runs with the same seeds give bit-identical models
// however the network orders the updates, and a server that resumes from its write-ahead log
// (replaying in log order) ends exactly where an uninterrupted one would. Each term
// weight * delta is formed exactly (weights are whole sample counts < 2^29, a float has 24
// significant bits) and added as a 128-bit fixed-point integer with a quantum of 2^-70:
// integer addition is associative, so the sum is exact and order-free. Bits below the quantum
// are rounded per term, to nearest with ties to even, which is still order-free; a negative
// term is rounded to a multiple of 2^-59 instead (the first implementation's rounding, kept
// bit for bit; it touches only terms smaller than 2^-7 with bits below 2^-59).
//
// Capacity: a term must satisfy |term| < 2^48 and every sum |sum| < 2^57, so at least 2^9 = 512
// maximal terms always fit. An update with a term or a sum beyond that is refused with
// out_of_range and leaves the sum unchanged.
//
// Cost: one pass over the values with integer shifts (vectorised; tiny terms below 2^-59 take
// a scalar pass), 16 bytes of state per parameter, read and written once per update. The
// state is rebuilt from the log on restart, never checkpointed.
// Checks are those of check_update (shape, finite values, norm bound or clip); without a norm
// bound they ride on the sum's own pass (a refused update is taken out again, exactly).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "edgefl/base/status.hpp"
#include "edgefl/aggregate/mean_weighting.hpp"
#include "edgefl/aggregate/update_checks.hpp"

namespace edgefl {

class ExactMean {
 public:
  explicit ExactMean(std::size_t parameter_count, UpdateChecks checks = {},
                     MeanWeighting weighting = MeanWeighting::samples);

  // Adds weight * delta with weight = mean_weight(weighting, samples). samples must be a whole
  // number in [1, 2^29) (a sample count): invalid_argument otherwise. Rejections
  // (shape_mismatch, non_finite, norm_exceeded, out_of_range for a term or a sum beyond
  // capacity) leave the sum unchanged.
  Status add(std::span<const float> delta, uint64_t samples);
  std::size_t count() const { return count_; }
  uint64_t total_weight() const { return total_weight_; }
  MeanWeighting weighting() const { return weighting_; }
  std::size_t size() const { return high_.size(); }

  // The exact sum of parameter i: a signed 128-bit integer in units of 2^-70 as its high
  // (signed) and low words, what mean_into rounds. For exactness checks.
  struct Sum {
    int64_t high = 0;
    uint64_t low = 0;
    bool operator==(const Sum&) const = default;
  };
  Sum sum_at(std::size_t i) const { return Sum{high_[i], low_[i]}; }

  // Folds another ExactMean's sum in (a relay's partial sum): sum += high:low per parameter,
  // count += update_count, total_weight += total_weight. Integer addition is exact and
  // order-free, so folding partial sums gives bit for bit the sum of adding every update here.
  // shape_mismatch for a size other than size(), invalid_argument for a zero count or weight,
  // out_of_range when a sum would leave the capacity 2^57 (the sum is then unchanged).
  Status add_sum(std::span<const int64_t> high, std::span<const uint64_t> low,
                 uint64_t update_count, uint64_t total_weight);
  std::span<const int64_t> high_words() const { return high_; }
  std::span<const uint64_t> low_words() const { return low_; }

  // out = sum / total_weight, rounded once; failed_precondition when nothing was added.
  Status mean_into(std::span<float> out) const;
  void reset();

 private:
  std::vector<int64_t> high_;   // sum = high * 2^-6 + low * 2^-70, low in [0, 2^64)
  std::vector<uint64_t> low_;
  std::size_t count_ = 0;
  uint64_t total_weight_ = 0;
  UpdateChecks checks_;
  MeanWeighting weighting_;
};

}  // namespace edgefl
