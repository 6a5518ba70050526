// edgefl-dpsgd-state-diff: compares the decentralised state two runs of the same device
// persisted (<state_dir>/dpsgd_state with peer.persist_interval: its parameters and step).
//
//   edgefl-dpsgd-state-diff <state-a> <state-b> <tolerance>
//
// Prints one JSON line: {"step_a":..,"step_b":..,"max_abs_difference":max |a-b|,
// "relative_difference":|a-b|/|b|,"norm":|b|}. Exit 0 when both are at the same step and the
// largest difference of one parameter is <= tolerance, 1 otherwise (the reason on stderr), 2 on
// bad arguments or unreadable files.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "edgefl/base/json_line.hpp"
#include "edgefl/proto/checkpoint.hpp"

namespace {

struct State {
  uint64_t step = 0;
  std::vector<float> params;
};

edgefl::Result<State> load_state(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return edgefl::make_status(edgefl::StatusCode::io_error, "cannot open " + path);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(file)),
                             std::istreambuf_iterator<char>());
  edgefl::AlignedBytes scratch;
  auto checkpoint = edgefl::decode_checkpoint(bytes, scratch);
  if (!checkpoint) return checkpoint.status().with_context(path);
  State state;
  state.step = checkpoint->model_version;
  state.params.resize(checkpoint->params.parameter_count);
  EDGEFL_RETURN_IF_ERROR(edgefl::decode_into(checkpoint->params, state.params).with_context(path));
  return state;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: edgefl-dpsgd-state-diff <state-a> <state-b> <tolerance>\n");
    return 2;
  }
  const double tolerance = std::strtod(argv[3], nullptr);
  edgefl::Result<State> a = load_state(argv[1]);
  edgefl::Result<State> b = load_state(argv[2]);
  for (const auto* loaded : {&a, &b}) {
    if (!*loaded) {
      std::fprintf(stderr, "edgefl-dpsgd-state-diff: %s\n", loaded->status().to_string().c_str());
      return 2;
    }
  }
  if (a->params.size() != b->params.size() || a->params.empty()) {
    std::fprintf(stderr, "edgefl-dpsgd-state-diff: %zu vs %zu parameters\n", a->params.size(),
                 b->params.size());
    return 1;
  }
  double max_abs = 0, difference = 0, norm = 0;
  for (std::size_t i = 0; i < a->params.size(); ++i) {
    const double d = double(a->params[i]) - double(b->params[i]);
    max_abs = std::max(max_abs, std::abs(d));
    difference += d * d;
    norm += double(b->params[i]) * double(b->params[i]);
  }
  std::printf("%s\n", edgefl::JsonLine()
                          .add("step_a", a->step)
                          .add("step_b", b->step)
                          .add("max_abs_difference", max_abs)
                          .add("relative_difference",
                               norm > 0 ? std::sqrt(difference / norm) : std::sqrt(difference))
                          .add("norm", std::sqrt(norm))
                          .str()
                          .c_str());
  if (a->step != b->step) {
    std::fprintf(stderr, "edgefl-dpsgd-state-diff: step %llu vs %llu\n",
                 static_cast<unsigned long long>(a->step),
                 static_cast<unsigned long long>(b->step));
    return 1;
  }
  if (!(max_abs <= tolerance)) {
    std::fprintf(stderr, "edgefl-dpsgd-state-diff: a parameter differs by %g > %g\n", max_abs,
                 tolerance);
    return 1;
  }
  return 0;
}
