// RankSlice: which of a simulation's devices this process runs when several processes share
// one server (mpirun or srun places them, possibly on many hosts). The rank and the number of
// ranks come from flags (--rank/--ranks) or else the launcher's environment: OpenMPI's
// OMPI_COMM_WORLD_RANK/OMPI_COMM_WORLD_SIZE, then Slurm's SLURM_PROCID/SLURM_NTASKS; neither
// means one process running every device.
//
//   Result<RankSlice> slice = resolve_rank_slice(flag_rank, flag_ranks, devices, getenv_lookup);
//   for (uint32_t i = slice->first; i < slice->end; ++i) ...   // contiguous, sizes differ by <= 1
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "edgefl/base/status.hpp"

namespace edgefl::sim {

struct RankSlice {
  uint32_t rank = 0;
  uint32_t ranks = 1;
  uint32_t first = 0;  // first device index of this rank
  uint32_t end = 0;    // one past its last
  std::string source;  // "flags", "OpenMPI", "Slurm" or "single process"
};

// Reads an environment variable (std::getenv in the program; a map in tests).
using EnvLookup = std::function<std::optional<std::string>(const char* name)>;
EnvLookup process_environment();

// flag_ranks 0: not given (the environment decides). invalid_argument naming the variable or
// flag for a rank not below the number of ranks, a non-number, or more ranks than devices.
Result<RankSlice> resolve_rank_slice(uint32_t flag_rank, uint32_t flag_ranks, uint32_t devices,
                                     const EnvLookup& env);

}  // namespace edgefl::sim
