// Mixing: the weights and the update of one DPSGD step on one node.
//
//   std::vector<MixingRow> w = edgefl::metropolis_hastings(topology);   // 1/3 each on a ring
//   // x = this node's parameters after its own optimizer step; sent = what it sent at this step
//   auto folded = edgefl::fold_missing(w[j], arrived);                   // late neighbours -> self
//   EDGEFL_RETURN_IF_ERROR(edgefl::mix_into(x, sent, *folded, models));
//
// One step is x_j <- sum_k W_jk x_k - alpha * d_j, where d_j is the optimizer's step on the
// gradient at x_j. The device runs the optimizer in place first (x = x_j - alpha d_j) and then
// adds sum_{k != j} W_jk (x_k - x_j), which is the same thing because every row sums to 1, and
// needs no second copy of the model.
//
// Metropolis-Hastings weights W_jk = 1 / (1 + max(d_j, d_k)) for neighbours, W_jj = 1 - the
// rest, are symmetric and doubly stochastic on any undirected graph. A neighbour whose model
// did not arrive has its weight moved onto the node itself (not spread over the others): when
// a node is simply offline, both ends fold, so W stays symmetric and the mean of the models
// moves only by the gradient steps.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "edgefl/base/status.hpp"
#include "edgefl/decentral/topology.hpp"

namespace edgefl {

struct NeighbourWeight {
  uint32_t node = 0;
  double weight = 0.0;
};

// Row j of W: the node's own weight and its neighbours' (in the topology's neighbour order).
struct MixingRow {
  double self_weight = 1.0;
  std::vector<NeighbourWeight> neighbours;

  double sum() const;
};

std::vector<MixingRow> metropolis_hastings(const Topology& topology);

// `row` with the weight of every neighbour whose arrived[i] is false moved onto self_weight
// (that neighbour keeps weight 0). invalid_argument when the sizes differ.
Result<MixingRow> fold_missing(const MixingRow& row, const std::vector<bool>& arrived);

// params += sum_i row.neighbours[i].weight * (models[i] - sent). models[i] empty: that
// neighbour is missing and must carry weight 0 (fold first); a missing neighbour with weight is
// failed_precondition, a model of the wrong length shape_mismatch.
Status mix_into(std::span<float> params, std::span<const float> sent, const MixingRow& row,
                std::span<const std::span<const float>> models);

// ||a - b||^2 in double: what a node reports of its distance to a neighbour. shape_mismatch
// when the lengths differ.
Result<double> squared_distance(std::span<const float> a, std::span<const float> b);

}  // namespace edgefl
