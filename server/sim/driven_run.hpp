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
#include <string>

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

// The server side of a Local-GD run: `nodes` devices, each round `local_steps` full-batch SGD
// steps of `lr` (no momentum), their mean weighted uniformly (the paper's objective: (1/M) sum
// of the node losses); the run measures the global model itself (no evaluation data).
server::ServerConfig local_gd_server_config(const std::string& model, uint64_t seed, uint32_t rounds,
                                            uint32_t nodes, uint32_t local_steps, float lr);

// `options` gets drive_server; the server's state goes to <state_root>/server.
Result<DrivenRun> drive_rounds(SimulationOptions options, const server::ServerConfig& config,
                               std::span<const float> initial_model, double time_limit_s,
                               const AfterRound& after_round);

}  // namespace edgefl::sim
