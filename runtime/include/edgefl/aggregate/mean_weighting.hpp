// MeanWeighting: how a synchronous round weighs its devices' updates in the mean.
//
//   edgefl::ExactMean mean(P, checks, edgefl::MeanWeighting::uniform);
//   mean.add(delta, update.sample_count);   // weight 1 whatever the sample count
//
// samples: each update counts with its device's sample count (FedAvg, McMahan et al.);
// uniform: every update counts once, the plain mean over workers (Local SGD, DiLoCo on i.i.d.
// shards, PALSGD's reference code).
#pragma once

#include <cstdint>
#include <string_view>

#include "edgefl/base/status.hpp"

namespace edgefl {

enum class MeanWeighting : uint8_t { samples = 0, uniform = 1 };

std::string_view mean_weighting_name(MeanWeighting weighting);
Result<MeanWeighting> parse_mean_weighting(std::string_view name);  // "samples", "uniform"

// The weight of an update with `sample_count` samples.
inline uint64_t mean_weight(MeanWeighting weighting, uint64_t sample_count) {
  return weighting == MeanWeighting::uniform ? 1 : sample_count;
}

}  // namespace edgefl
