// Rng: a small seeded generator whose streams are identical on every platform and compiler.
//
//   edgefl::Rng rng(seed);
//   float u = rng.uniform();        // [0, 1)
//   float g = rng.normal();         // N(0, 1)
//   uint32_t k = rng.below(10);     // [0, 10)
//
// std::normal_distribution and friends are implementation-defined, so results would differ
// between the x86 server and an ARM device; everything seeded in edgefl draws from this instead.
// Core generator: PCG32 (O'Neill), seeded through SplitMix64. Not for cryptography.
#pragma once

#include <cstdint>

namespace edgefl {

class Rng {
 public:
  explicit Rng(uint64_t seed, uint64_t stream = 0);

  uint32_t next_u32();
  uint64_t next_u64();
  // Uniform integer in [0, bound); bound > 0. Unbiased (Lemire's method with rejection).
  uint32_t below(uint32_t bound);
  // Uniform in [0, 1) with 24 random bits.
  float uniform();
  // Uniform in [0, 1) with 53 random bits.
  double uniform_double();
  // Standard normal via Box-Muller (double precision inside).
  double normal();
  // Gamma(shape, 1) via Marsaglia-Tsang; shape > 0. Used for Dirichlet partitions.
  double gamma(double shape);
  // A child generator for an independent sub-stream (per device, per layer, ...).
  Rng fork(uint64_t stream_id);

 private:
  uint64_t state_ = 0;
  uint64_t increment_ = 1;
  bool has_spare_normal_ = false;
  double spare_normal_ = 0.0;
};

// SplitMix64: mixes a 64-bit value into a well-distributed one. Used to derive seeds.
uint64_t splitmix64(uint64_t value);

}  // namespace edgefl
