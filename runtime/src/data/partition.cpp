#include "edgefl/data/partition.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "edgefl/base/rng.hpp"

namespace edgefl {

namespace {

void shuffle(std::vector<uint32_t>& v, Rng& rng) {
  for (std::size_t i = v.size(); i > 1; --i) {
    std::swap(v[i - 1], v[rng.below(static_cast<uint32_t>(i))]);
  }
}

Status check(const Dataset& data, std::size_t clients) {
  if (clients == 0) return make_status(StatusCode::invalid_argument, "partition: zero clients");
  if (clients > data.size()) {
    return make_status(StatusCode::invalid_argument,
                       "partition: " + std::to_string(clients) + " clients for " +
                           std::to_string(data.size()) + " samples");
  }
  return Status();
}

Status need_labels(const Dataset& data, const char* what) {
  if (data.num_classes() == 0) {
    return make_status(StatusCode::invalid_argument,
                       std::string("partition: ") + what + " needs class labels, the dataset has regression targets");
  }
  return Status();
}

Partition finish(const Dataset& data, std::vector<std::vector<uint32_t>> clients) {
  Partition p;
  p.clients = std::move(clients);
  for (auto& c : p.clients) {
    std::sort(c.begin(), c.end());
    p.histograms.push_back(DatasetView(data, c).label_histogram());
  }
  return p;
}

}  // namespace

Result<Partition> partition_iid(const Dataset& data, std::size_t clients, uint64_t seed) {
  EDGEFL_RETURN_IF_ERROR(check(data, clients));
  Rng rng(seed);
  std::vector<uint32_t> all(data.size());
  std::iota(all.begin(), all.end(), 0u);
  shuffle(all, rng);
  std::vector<std::vector<uint32_t>> out(clients);
  for (std::size_t c = 0; c < clients; ++c) {
    const std::size_t begin = c * all.size() / clients, end = (c + 1) * all.size() / clients;
    out[c].assign(all.begin() + begin, all.begin() + end);
  }
  return finish(data, std::move(out));
}

Result<Partition> partition_dirichlet(const Dataset& data, std::size_t clients, double alpha,
                                      uint64_t seed) {
  EDGEFL_RETURN_IF_ERROR(check(data, clients));
  EDGEFL_RETURN_IF_ERROR(need_labels(data, "Dirichlet"));
  if (!(alpha > 0) || !std::isfinite(alpha)) {
    return make_status(StatusCode::invalid_argument, "partition: Dirichlet alpha must be finite and > 0");
  }
  Rng rng(seed);
  std::vector<std::vector<uint32_t>> by_class(data.num_classes());
  for (uint32_t i = 0; i < data.size(); ++i) by_class[static_cast<std::size_t>(data.target(i))].push_back(i);
  std::vector<std::vector<uint32_t>> out(clients);
  std::vector<double> proportions(clients);
  for (auto& members : by_class) {
    shuffle(members, rng);
    double total = 0;
    for (double& p : proportions) total += (p = rng.gamma(alpha));
    // Cumulative cut points; when every draw underflows to 0, fall back to an even split.
    double cumulative = 0;
    std::size_t begin = 0;
    for (std::size_t c = 0; c < clients; ++c) {
      cumulative += total > 0 ? proportions[c] / total : 1.0 / double(clients);
      std::size_t end = c + 1 == clients ? members.size()
                                         : std::min(members.size(), static_cast<std::size_t>(std::llround(cumulative * double(members.size()))));
      end = std::max(end, begin);
      out[c].insert(out[c].end(), members.begin() + begin, members.begin() + end);
      begin = end;
    }
  }
  return finish(data, std::move(out));
}

Result<Partition> partition_shards(const Dataset& data, std::size_t clients,
                                   std::size_t shards_per_client, uint64_t seed) {
  EDGEFL_RETURN_IF_ERROR(check(data, clients));
  EDGEFL_RETURN_IF_ERROR(need_labels(data, "shards"));
  const std::size_t shards = clients * shards_per_client;
  if (shards_per_client == 0 || shards > data.size()) {
    return make_status(StatusCode::invalid_argument,
                       "partition: " + std::to_string(shards) + " shards for " + std::to_string(data.size()) + " samples");
  }
  Rng rng(seed);
  std::vector<uint32_t> order(data.size());
  std::iota(order.begin(), order.end(), 0u);
  shuffle(order, rng);  // ties within a class in random order
  std::stable_sort(order.begin(), order.end(),
                   [&data](uint32_t a, uint32_t b) { return data.target(a) < data.target(b); });
  std::vector<uint32_t> shard_ids(shards);
  std::iota(shard_ids.begin(), shard_ids.end(), 0u);
  shuffle(shard_ids, rng);
  std::vector<std::vector<uint32_t>> out(clients);
  for (std::size_t s = 0; s < shards; ++s) {
    const std::size_t shard = shard_ids[s];
    const std::size_t begin = shard * order.size() / shards, end = (shard + 1) * order.size() / shards;
    auto& client = out[s / shards_per_client];
    client.insert(client.end(), order.begin() + begin, order.begin() + end);
  }
  return finish(data, std::move(out));
}

}  // namespace edgefl
