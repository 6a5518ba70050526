// Accuracy and speed of the round sum: plain float32, the library's Kahan-compensated
// StreamingMean, and a double sum, each against a long-double reference over the same
// seeded updates. One JSON object per line on stdout; a table on stderr.
//   aggregate_precision [parameters=200000] [updates=100]
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "edgefl/base/rng.hpp"
#include "edgefl/aggregate/streaming_mean.hpp"

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t size = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 200000;
  const std::size_t updates = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 100;
  edgefl::Rng rng(2024);
  std::vector<std::vector<float>> deltas(updates, std::vector<float>(size));
  std::vector<double> weights(updates);
  double total = 0.0;
  for (std::size_t n = 0; n < updates; ++n) {
    weights[n] = 20 + rng.below(600);
    total += weights[n];
    const double shared = 0.01 * rng.normal();
    for (float& v : deltas[n]) v = static_cast<float>(shared + 0.01 * rng.normal());
  }
  std::vector<long double> reference(size, 0.0L);
  for (std::size_t n = 0; n < updates; ++n) {
    for (std::size_t i = 0; i < size; ++i) reference[i] += static_cast<long double>(weights[n]) * deltas[n][i];
  }

  auto relative_error = [&](const std::vector<float>& mean) {
    long double error = 0, norm = 0;
    for (std::size_t i = 0; i < size; ++i) {
      const long double want = reference[i] / total;
      error += (mean[i] - want) * (mean[i] - want);
      norm += want * want;
    }
    return static_cast<double>(std::sqrt(error / norm));
  };

  struct Row {
    const char* method;
    double error;
    double seconds;
    double bytes_per_parameter;
  };
  std::vector<Row> rows;
  std::vector<float> mean(size);

  {  // plain float sum
    std::vector<float> sum(size, 0.0f);
    auto start = std::chrono::steady_clock::now();
    for (std::size_t n = 0; n < updates; ++n) {
      const float w = static_cast<float>(weights[n]);
      for (std::size_t i = 0; i < size; ++i) sum[i] += w * deltas[n][i];
    }
    const double elapsed = seconds_since(start);
    for (std::size_t i = 0; i < size; ++i) mean[i] = static_cast<float>(sum[i] / total);
    rows.push_back({"float32", relative_error(mean), elapsed, 4});
  }
  {  // the library: float32 + Kahan compensation
    edgefl::StreamingMean streaming(size);
    auto start = std::chrono::steady_clock::now();
    for (std::size_t n = 0; n < updates; ++n) {
      if (!streaming.add(deltas[n], weights[n]).ok()) return 1;
    }
    const double elapsed = seconds_since(start);
    if (!streaming.mean_into(mean).ok()) return 1;
    rows.push_back({"kahan_float32 (StreamingMean, includes checks)", relative_error(mean), elapsed, 8});
  }
  {  // double sum
    std::vector<double> sum(size, 0.0);
    auto start = std::chrono::steady_clock::now();
    for (std::size_t n = 0; n < updates; ++n) {
      for (std::size_t i = 0; i < size; ++i) sum[i] += weights[n] * deltas[n][i];
    }
    const double elapsed = seconds_since(start);
    for (std::size_t i = 0; i < size; ++i) mean[i] = static_cast<float>(sum[i] / total);
    rows.push_back({"float64", relative_error(mean), elapsed, 8});
  }

  std::fprintf(stderr, "%-48s %14s %12s %10s\n", "method", "rel L2 error", "time ratio", "bytes/P");
  for (const Row& row : rows) {
    const double ratio = row.seconds / rows[0].seconds;
    std::printf(
        "{\"bench\":\"aggregate_precision\",\"method\":\"%s\",\"parameters\":%zu,\"updates\":%zu,"
        "\"relative_l2_error\":%.3g,\"time_vs_float32\":%.3f,\"bytes_per_parameter\":%.0f}\n",
        row.method, size, updates, row.error, ratio, row.bytes_per_parameter);
    std::fprintf(stderr, "%-48s %14.3g %12.2f %10.0f\n", row.method, row.error, ratio, row.bytes_per_parameter);
  }
  return 0;
}
