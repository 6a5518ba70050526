// model_hash: a short fingerprint of a flat parameter vector. A Task carries the hash of its
// global parameters and the Update trained on it echoes it, so the server can tell an update
// computed on another model (another run, a lost checkpoint) from one computed on its own.
// Not cryptographic: it guards against mix-ups, not forgery.
#pragma once

#include <cstdint>
#include <span>

namespace edgefl {

// FNV-1a over the 32-bit words of the values (bit patterns, so -0.0 and 0.0 differ).
uint32_t model_hash(std::span<const float> values);

}  // namespace edgefl
