// Test helper: a one-thread compute context of the given backend, or a failed REQUIRE.
#pragma once

#include <doctest/doctest.h>

#include <memory>

#include "edgefl/compute.hpp"

namespace edgefl::testing {

inline std::unique_ptr<ComputeContext> context(Backend backend) {
  auto ctx = ComputeContext::create(backend, 1);
  REQUIRE(ctx.ok());
  return std::move(*ctx);
}

}  // namespace edgefl::testing
