#include "rank_slice.hpp"

#include <charconv>
#include <cstdlib>

namespace edgefl::sim {

namespace {

Result<uint32_t> parse_number(const char* name, const std::string& text) {
  uint32_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) {
    return make_status(StatusCode::invalid_argument,
                       std::string(name) + "='" + text + "' is not a whole number");
  }
  return value;
}

// The launcher's rank and size, if its variables are set.
Result<std::optional<RankSlice>> from_environment(const EnvLookup& env) {
  struct Launcher {
    const char* name;
    const char* rank;
    const char* size;
  };
  for (const Launcher& launcher :
       {Launcher{"OpenMPI", "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE"},
        Launcher{"Slurm", "SLURM_PROCID", "SLURM_NTASKS"}}) {
    std::optional<std::string> rank = env(launcher.rank);
    std::optional<std::string> size = env(launcher.size);
    if (!rank && !size) continue;
    if (!rank || !size) {
      return make_status(StatusCode::invalid_argument, std::string(launcher.rank) + " and " +
                                                           launcher.size + " must be set together");
    }
    Result<uint32_t> r = parse_number(launcher.rank, *rank);
    if (!r) return r.status();
    Result<uint32_t> n = parse_number(launcher.size, *size);
    if (!n) return n.status();
    RankSlice slice;
    slice.rank = *r;
    slice.ranks = *n;
    slice.source = launcher.name;
    return std::optional<RankSlice>(slice);
  }
  return std::optional<RankSlice>();
}

}  // namespace

EnvLookup process_environment() {
  return [](const char* name) -> std::optional<std::string> {
    const char* value = std::getenv(name);
    return value == nullptr ? std::nullopt : std::optional<std::string>(value);
  };
}

Result<RankSlice> resolve_rank_slice(uint32_t flag_rank, uint32_t flag_ranks, uint32_t devices,
                                     const EnvLookup& env) {
  RankSlice slice;
  slice.source = "single process";
  if (flag_ranks != 0) {
    slice.rank = flag_rank;
    slice.ranks = flag_ranks;
    slice.source = "flags";
  } else if (flag_rank != 0) {
    return make_status(StatusCode::invalid_argument, "--rank needs --ranks");
  } else {
    Result<std::optional<RankSlice>> launched = from_environment(env);
    if (!launched) return launched.status();
    if (*launched) slice = **launched;
  }
  if (slice.ranks == 0 || slice.rank >= slice.ranks) {
    return make_status(StatusCode::invalid_argument,
                       "rank " + std::to_string(slice.rank) + " of " + std::to_string(slice.ranks) +
                           " (" + slice.source + "): the rank must be below the number of ranks");
  }
  if (slice.ranks > devices) {
    return make_status(StatusCode::invalid_argument,
                       std::to_string(slice.ranks) + " ranks (" + slice.source + ") for " +
                           std::to_string(devices) + " devices: every rank needs a device");
  }
  slice.first = static_cast<uint32_t>(uint64_t{devices} * slice.rank / slice.ranks);
  slice.end = static_cast<uint32_t>(uint64_t{devices} * (slice.rank + 1) / slice.ranks);
  return slice;
}

}  // namespace edgefl::sim
