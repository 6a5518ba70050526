#include "edgefl/decentral/mixing.hpp"

#include <algorithm>
#include <string>

namespace edgefl {

double MixingRow::sum() const {
  double total = self_weight;
  for (const NeighbourWeight& n : neighbours) total += n.weight;
  return total;
}

std::vector<MixingRow> metropolis_hastings(const Topology& topology) {
  std::vector<MixingRow> rows(topology.size());
  for (uint32_t j = 0; j < topology.size(); ++j) {
    MixingRow& row = rows[j];
    double others = 0.0;
    for (uint32_t k : topology.neighbours(j)) {
      const double w =
          1.0 / (1.0 + static_cast<double>(std::max(topology.degree(j), topology.degree(k))));
      row.neighbours.push_back({k, w});
      others += w;
    }
    row.self_weight = 1.0 - others;
  }
  return rows;
}

Result<MixingRow> fold_missing(const MixingRow& row, const std::vector<bool>& arrived) {
  if (arrived.size() != row.neighbours.size()) {
    return make_status(StatusCode::invalid_argument,
                       "fold: " + std::to_string(arrived.size()) + " arrival flags for " +
                           std::to_string(row.neighbours.size()) + " neighbours");
  }
  MixingRow folded = row;
  for (std::size_t i = 0; i < arrived.size(); ++i) {
    if (arrived[i]) continue;
    folded.self_weight += folded.neighbours[i].weight;
    folded.neighbours[i].weight = 0.0;
  }
  return folded;
}

Status mix_into(std::span<float> params, std::span<const float> sent, const MixingRow& row,
                std::span<const std::span<const float>> models) {
  if (sent.size() != params.size()) {
    return make_status(StatusCode::shape_mismatch,
                       "mix: sent model has " + std::to_string(sent.size()) +
                           " values, parameters " + std::to_string(params.size()));
  }
  if (models.size() != row.neighbours.size()) {
    return make_status(StatusCode::invalid_argument,
                       "mix: " + std::to_string(models.size()) + " models for " +
                           std::to_string(row.neighbours.size()) + " neighbours");
  }
  for (std::size_t i = 0; i < models.size(); ++i) {
    const double weight = row.neighbours[i].weight;
    if (models[i].empty()) {
      if (weight != 0.0) {
        return make_status(StatusCode::failed_precondition,
                           "mix: neighbour " + std::to_string(row.neighbours[i].node) +
                               " is missing but still weighted " + std::to_string(weight) +
                               " (fold it first)");
      }
      continue;
    }
    if (models[i].size() != params.size()) {
      return make_status(StatusCode::shape_mismatch,
                         "mix: neighbour " + std::to_string(row.neighbours[i].node) + " sent " +
                             std::to_string(models[i].size()) + " values, model has " +
                             std::to_string(params.size()));
    }
  }
  for (std::size_t i = 0; i < models.size(); ++i) {
    if (models[i].empty() || row.neighbours[i].weight == 0.0) continue;
    const float w = static_cast<float>(row.neighbours[i].weight);
    const float* x = models[i].data();
    const float* s = sent.data();
    float* p = params.data();
    for (std::size_t e = 0; e < params.size(); ++e) p[e] += w * (x[e] - s[e]);
  }
  return Status();
}

Result<double> squared_distance(std::span<const float> a, std::span<const float> b) {
  if (a.size() != b.size()) {
    return make_status(StatusCode::shape_mismatch, "distance between models of " +
                                                       std::to_string(a.size()) + " and " +
                                                       std::to_string(b.size()) + " values");
  }
  double total = 0.0;
  for (std::size_t e = 0; e < a.size(); ++e) {
    const double d = static_cast<double>(a[e]) - static_cast<double>(b[e]);
    total += d * d;
  }
  return total;
}

}  // namespace edgefl
