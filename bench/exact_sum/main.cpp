// Throughput of the exact round sum against a STREAM-style triad measured in the same run,
// interleaved on the same thread. The fold is the server's path for one update: decode the
// message (verifier), payload_into (copy + finite check), ExactMean::add (checks + exact
// accumulate). Bytes counted per parameter: 4 of delta read + 16 of sum read + 16 written;
// the triad a = b + s*c counts 24 bytes per element (STREAM's rule) and runs over as many
// counted bytes as one fold. One JSON object per line on stdout; a table on stderr.
//   exact_sum [parameters=235146] [updates=8] [repetitions=15]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "edgefl/aggregate/exact_mean.hpp"
#include "edgefl/base/rng.hpp"
#include "edgefl/proto/proto.hpp"
#include "exact_mean_reference.hpp"

namespace {

constexpr double kFoldBytesPerParameter = 4 + 16 + 16;

double seconds_of(const std::function<void()>& work) {
  const auto start = std::chrono::steady_clock::now();
  work();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

std::string cpu_model() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

[[noreturn]] void fail(const std::string& what, const edgefl::Status& status) {
  std::fprintf(stderr, "exact_sum: %s: %s\n", what.c_str(), status.to_string().c_str());
  std::exit(1);
}

// a = b + s * c over `a.size()` doubles, `passes` times.
void triad(std::vector<double>& a, const std::vector<double>& b, const std::vector<double>& c,
           int passes) {
  for (int pass = 0; pass < passes; ++pass) {
    const double s = 1.0 + pass;
    for (std::size_t i = 0; i < a.size(); ++i) a[i] = b[i] + s * c[i];
  }
}

struct Timed {
  const char* path;
  edgefl::ExactMean
      mean;  // one per path, reset per repetition, as the server's lives across rounds
  std::vector<double> fold_gbps;
  std::vector<double> triad_gbps;
  std::vector<double> ratios;
};

}  // namespace

int main(int argc, char** argv) {
  const std::size_t size = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 235146;
  const std::size_t updates = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 8;
  const int repetitions = argc > 3 ? std::atoi(argv[3]) : 15;
  if (size == 0 || updates == 0 || repetitions <= 0) {
    std::fprintf(stderr, "usage: exact_sum [parameters>0] [updates>0] [repetitions>0]\n");
    return 2;
  }

  // Seeded deltas of a trained-model scale, each encoded once as the device would send it.
  edgefl::Rng rng(2026);
  std::vector<std::vector<float>> deltas(updates, std::vector<float>(size));
  std::vector<uint64_t> weights(updates);
  std::vector<std::vector<uint8_t>> messages;
  for (std::size_t n = 0; n < updates; ++n) {
    weights[n] = 20 + rng.below(600);
    for (float& v : deltas[n]) v = static_cast<float>(0.01 * rng.normal());
    edgefl::Update update;
    update.update_id = n + 1;
    update.sample_count = weights[n];
    update.payload.parameter_count = static_cast<uint32_t>(size);
    update.payload.f32 = deltas[n];
    edgefl::Result<std::vector<uint8_t>> bytes = edgefl::encode_message(update);
    if (!bytes) fail("encode", bytes.status());
    messages.push_back(std::move(*bytes));
  }

  const std::size_t triad_size = static_cast<std::size_t>(kFoldBytesPerParameter * size / 24.0);
  std::vector<double> a(triad_size, 0.0), b(triad_size, 1.0), c(triad_size, 2.0);
  edgefl::AlignedBytes scratch;
  std::vector<float> values(size);
  const double fold_bytes = kFoldBytesPerParameter * size * updates;
  const double triad_bytes = 24.0 * triad_size * updates;

  std::vector<Timed> paths;
  paths.push_back({"decode+verify+add", edgefl::ExactMean(size), {}, {}, {}});
  paths.push_back({"decode+verify+add, norm bound",
                   edgefl::ExactMean(size, {.max_l2_norm = 1e30}),
                   {},
                   {},
                   {}});
  for (int rep = 0; rep < repetitions; ++rep) {
    for (Timed& path : paths) {
      edgefl::ExactMean& mean = path.mean;
      mean.reset();
      const double fold = seconds_of([&] {
        for (std::size_t n = 0; n < updates; ++n) {
          edgefl::Result<edgefl::DecodedMessage> decoded =
              edgefl::decode_message(messages[n], scratch);
          if (!decoded) fail("decode", decoded.status());
          edgefl::Status status = decoded->payload_into(values);
          if (status.ok())
            status = mean.add(values, std::get<edgefl::Update>(decoded->message).sample_count);
          if (!status.ok()) fail("fold", status);
        }
      });
      const double stream = seconds_of([&] { triad(a, b, c, static_cast<int>(updates)); });
      path.fold_gbps.push_back(fold_bytes / fold / 1e9);
      path.triad_gbps.push_back(triad_bytes / stream / 1e9);
      path.ratios.push_back(path.fold_gbps.back() / path.triad_gbps.back());
    }
  }

  // The accumulate alone against the oracle (each after one pass that also checks the two
  // agree bit for bit, so that neither is timed with first-touch page faults).
  edgefl::ExactMean fast(size);
  edgefl::reference::ExactMean reference(size);
  auto add_all = [&](auto& mean) {
    for (std::size_t n = 0; n < updates; ++n) {
      if (edgefl::Status s = mean.add(deltas[n], weights[n]); !s.ok()) fail("add", s);
    }
  };
  add_all(fast);
  add_all(reference);
  std::vector<float> fast_mean(size), reference_mean(size);
  if (edgefl::Status s = fast.mean_into(fast_mean); !s.ok()) fail("mean", s);
  if (edgefl::Status s = reference.mean_into(reference_mean); !s.ok()) fail("reference mean", s);
  const bool identical =
      std::memcmp(fast_mean.data(), reference_mean.data(), size * sizeof(float)) == 0;
  std::vector<double> fast_runs;
  for (int rep = 0; rep < repetitions; ++rep)
    fast_runs.push_back(seconds_of([&] { add_all(fast); }));
  const double fast_add = median(fast_runs);
  const double reference_add = seconds_of([&] { add_all(reference); });

  const std::string cpu = cpu_model();
  std::fprintf(stderr, "%-32s %12s %12s %8s %10s\n", "path", "fold GB/s", "triad GB/s", "ratio",
               "ns/param");
  for (const Timed& path : paths) {
    const double gbps = median(path.fold_gbps);
    std::printf(
        "{\"bench\":\"exact_sum\",\"path\":\"%s\",\"cpu\":\"%s\",\"parameters\":%zu,\"updates\":%"
        "zu,"
        "\"repetitions\":%d,\"bytes_per_parameter\":%.0f,\"fold_gb_per_s\":%.2f,\"triad_gb_per_s\":"
        "%.2f,"
        "\"ratio_to_triad\":%.3f,\"ns_per_parameter\":%.3f}\n",
        path.path, cpu.c_str(), size, updates, repetitions, kFoldBytesPerParameter, gbps,
        median(path.triad_gbps), median(path.ratios), kFoldBytesPerParameter / gbps);
    std::fprintf(stderr, "%-32s %12.2f %12.2f %8.3f %10.3f\n", path.path, gbps,
                 median(path.triad_gbps), median(path.ratios), kFoldBytesPerParameter / gbps);
  }
  const double fast_ns = fast_add / (size * updates) * 1e9;
  const double reference_ns = reference_add / (size * updates) * 1e9;
  std::printf(
      "{\"bench\":\"exact_sum\",\"path\":\"add "
      "only\",\"cpu\":\"%s\",\"parameters\":%zu,\"updates\":%zu,"
      "\"ns_per_parameter\":%.3f,\"reference_ns_per_parameter\":%.3f,\"speedup\":%.1f,\"bit_"
      "identical\":%s}\n",
      cpu.c_str(), size, updates, fast_ns, reference_ns, reference_ns / fast_ns,
      identical ? "true" : "false");
  std::fprintf(stderr,
               "add only: %.3f ns/param, reference %.3f ns/param (x%.1f), bit-identical: %s\n",
               fast_ns, reference_ns, reference_ns / fast_ns, identical ? "yes" : "no");
  return identical ? 0 : 1;
}
