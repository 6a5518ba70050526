// A simulated cluster whose coordinator the caller drives, calling back after every closed
// round with the global model (the Local-GD benches measure it against their references).
//
//   auto run = drive_rounds(sim_options, server_config, /*initial_model=*/{}, deadline_s,
//                           [](uint64_t round, std::span<const float> global, double elapsed_s) {
//                             return false;  // true: stop the run here
//                           });
//   run->rounds; run->seconds; run->status;   // the server's end (ok, or timeout)
#pragma once

#include <cstdint>
#include <functional>
#include <span>

#include "edgefl/base/status.hpp"
#include "server_config.hpp"
#include "simulation.hpp"

namespace edgefl::sim {

struct DrivenRun {
  uint64_t rounds = 0;  // closed
  double seconds = 0;
  Status status;
};

using AfterRound =
    std::function<bool(uint64_t round, std::span<const float> global, double elapsed_s)>;

// `options` gets drive_server; the server's state goes to <state_root>/server.
Result<DrivenRun> drive_rounds(SimulationOptions options, const server::ServerConfig& config,
                               std::span<const float> initial_model, double time_limit_s,
                               const AfterRound& after_round);

}  // namespace edgefl::sim
