// Partitioners: split a dataset's samples across clients as index lists (no copies).
//
//   auto p = edgefl::partition_dirichlet(train, /*clients=*/10, /*alpha=*/0.5, /*seed=*/7);
//   edgefl::DatasetView mine(train, p->clients[3]);
//   p->histograms[3];   // samples per class of client 3
//
// All deterministic from the seed. IID: shuffle, then near-equal contiguous chunks.
// Dirichlet(alpha): for each class, proportions ~ Dir(alpha) over clients split that class's
// shuffled samples (small alpha = strong label skew). Shards: sort by label, cut into
// clients * shards_per_client equal shards, deal shuffled shards to clients (FedAvg paper).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "edgefl/data/dataset.hpp"
#include "edgefl/base/status.hpp"

namespace edgefl {

struct Partition {
  std::vector<std::vector<uint32_t>> clients;     // dataset indices per client
  std::vector<std::vector<std::size_t>> histograms;  // per client, samples per class
};

Result<Partition> partition_iid(const Dataset& data, std::size_t clients, uint64_t seed);
Result<Partition> partition_dirichlet(const Dataset& data, std::size_t clients, double alpha,
                                      uint64_t seed);
Result<Partition> partition_shards(const Dataset& data, std::size_t clients,
                                   std::size_t shards_per_client, uint64_t seed);

}  // namespace edgefl
