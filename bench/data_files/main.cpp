// Loading the user's data files: seconds to read each data name whole (one partition), as a
// device does at start, interleaved round by round so the names share the machine's state.
//
//   bench/data_files/make_files.py DIR          # Fashion-MNIST's training set as npy, npz, csv
//   build/native/bench/data_files/edgefl-data-files-bench [--repeats N] NAME...
//   e.g. NAME = npz:DIR/train_stored.npz
//   idx:DIR/train-images-idx3-ubyte:DIR/train-labels-idx1-ubyte
//
// stdout: one JSON object per name (median seconds over the repeats, samples, dataset bytes kept
// in memory); with one name also the process's peak resident set, which then is that load's.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "edgefl/base/json_line.hpp"
#include "edgefl/data/data_source.hpp"
#include "edgefl/train/memory_plan.hpp"

using namespace edgefl;

int main(int argc, char** argv) {
  int repeats = 5;
  std::vector<std::string> names;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--repeats") == 0 && i + 1 < argc) {
      repeats = std::max(1, std::atoi(argv[++i]));
    } else {
      names.emplace_back(argv[i]);
    }
  }
  if (names.empty()) {
    std::fprintf(stderr, "usage: edgefl-data-files-bench [--repeats N] DATA_NAME...\n");
    return 2;
  }
  struct Timing {
    std::vector<double> seconds;
    std::size_t samples = 0, dim = 0, bytes = 0;
  };
  std::vector<Timing> results(names.size());
  ShardSpec whole;
  whole.count = 1;
  for (int r = 0; r < repeats; ++r) {
    for (std::size_t n = 0; n < names.size(); ++n) {
      const auto start = std::chrono::steady_clock::now();
      auto source = DataSource::parse(names[n]);
      if (!source) return std::fprintf(stderr, "%s\n", source.status().to_string().c_str()), 1;
      auto shard = source->load_shard(whole);
      if (!shard) return std::fprintf(stderr, "%s\n", shard.status().to_string().c_str()), 1;
      results[n].seconds.push_back(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      results[n].samples = shard->data.size();
      results[n].dim = shard->data.dim();
      results[n].bytes = shard->data.memory_bytes();
    }
  }
  for (std::size_t n = 0; n < names.size(); ++n) {
    std::vector<double>& s = results[n].seconds;
    std::sort(s.begin(), s.end());
    JsonLine line;
    line.add("bench", "data_files").add("data", names[n]).add("seconds", s[s.size() / 2]);
    line.add("samples", uint64_t{results[n].samples}).add("dim", uint64_t{results[n].dim});
    line.add("dataset_bytes", uint64_t{results[n].bytes});
    if (names.size() == 1) {
      Result<uint64_t> peak = peak_resident_memory_bytes();
      if (peak) line.add("peak_rss_bytes", *peak);
    }
    std::puts(line.str().c_str());
  }
  return 0;
}
