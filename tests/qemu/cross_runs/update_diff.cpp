// edgefl-update-diff: compares the Update messages two runs of the same device saved with
// `edgefl-device --save-updates <dir>`, round by round.
//
//   edgefl-update-diff <dir-a> <dir-b> <tolerance>
//
// Prints one JSON line per round: {"round":r,"relative_difference":|a-b|/|b|,"norm":|b|}.
// Exit 0 when both hold the same rounds and every relative difference is <= tolerance,
// 1 otherwise (with the reason on stderr), 2 on bad arguments or unreadable files.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "edgefl/base/json_line.hpp"
#include "edgefl/proto/proto.hpp"

namespace {

using Rounds = std::map<uint64_t, std::vector<float>>;

edgefl::Result<Rounds> load_updates(const std::filesystem::path& dir) {
  Rounds rounds;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
    if (entry.path().extension() != ".update") continue;
    std::ifstream file(entry.path(), std::ios::binary);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    edgefl::AlignedBytes scratch;
    edgefl::Result<edgefl::DecodedMessage> decoded = edgefl::decode_message(bytes, scratch);
    if (!decoded) return decoded.status().with_context(entry.path().string());
    const auto* update = std::get_if<edgefl::Update>(&decoded->message);
    if (update == nullptr) {
      return edgefl::make_status(edgefl::StatusCode::invalid_argument, entry.path().string() + " is not an Update");
    }
    std::vector<float> values(update->payload.parameter_count);
    EDGEFL_RETURN_IF_ERROR(decoded->payload_into(values));
    rounds[update->round] = std::move(values);
  }
  if (error) return edgefl::make_status(edgefl::StatusCode::io_error, "cannot list " + dir.string() + ": " + error.message());
  return rounds;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: edgefl-update-diff <dir-a> <dir-b> <tolerance>\n");
    return 2;
  }
  const double tolerance = std::strtod(argv[3], nullptr);
  edgefl::Result<Rounds> a = load_updates(argv[1]);
  edgefl::Result<Rounds> b = load_updates(argv[2]);
  for (const auto* loaded : {&a, &b}) {
    if (!*loaded) {
      std::fprintf(stderr, "edgefl-update-diff: %s\n", loaded->status().to_string().c_str());
      return 2;
    }
  }
  bool ok = !a->empty() && a->size() == b->size();
  if (!ok) std::fprintf(stderr, "edgefl-update-diff: %zu vs %zu updates\n", a->size(), b->size());
  for (const auto& [round, values_a] : *a) {
    auto other = b->find(round);
    if (other == b->end() || other->second.size() != values_a.size()) {
      std::fprintf(stderr, "edgefl-update-diff: round %llu: no update of the same size in %s\n",
                   static_cast<unsigned long long>(round), argv[2]);
      ok = false;
      continue;
    }
    double difference = 0, norm = 0;
    for (std::size_t i = 0; i < values_a.size(); ++i) {
      const double d = double(values_a[i]) - double(other->second[i]);
      difference += d * d;
      norm += double(other->second[i]) * double(other->second[i]);
    }
    const double relative = norm > 0 ? std::sqrt(difference / norm) : std::sqrt(difference);
    std::printf("%s\n", edgefl::JsonLine()
                            .add("round", round)
                            .add("relative_difference", relative)
                            .add("norm", std::sqrt(norm))
                            .str()
                            .c_str());
    if (!(relative <= tolerance)) ok = false;
  }
  return ok ? 0 : 1;
}
