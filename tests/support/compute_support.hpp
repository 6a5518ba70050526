// Test helpers: a one-thread compute context of the given backend (or a failed REQUIRE), using
// the direct kernel named by EDGEFL_DIRECT_ISA (ctest runs the nn tests again with avx2 and
// portable, so one machine covers every kernel).
#pragma once

#include <doctest/doctest.h>

#include <cstdlib>
#include <memory>

#include "edgefl/nn/compute.hpp"

namespace edgefl::testing {

// The cap in EDGEFL_DIRECT_ISA (best when unset); a bad value fails the test.
inline DirectIsa direct_isa_under_test() {
  const char* wanted = std::getenv("EDGEFL_DIRECT_ISA");
  if (wanted == nullptr) return DirectIsa::best;
  Result<DirectIsa> isa = parse_direct_isa(wanted);
  REQUIRE_MESSAGE(isa.ok(), isa.status().to_string());
  return *isa;
}

inline std::unique_ptr<ComputeContext> context(Backend backend, std::size_t threads = 1) {
  auto ctx = ComputeContext::create(backend, threads, direct_isa_under_test());
  REQUIRE(ctx.ok());
  return std::move(*ctx);
}

}  // namespace edgefl::testing
