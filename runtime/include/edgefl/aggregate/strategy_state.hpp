// StrategyState: the named buffers and scalars an aggregation strategy needs in a checkpoint.
//
//   edgefl::StrategyState state = strategy->save_state();     // deep copies
//   for (auto& [name, buffer] : state.buffers) encode(name, buffer.span());
//   for (auto& [name, value] : state.scalars) encode(name, value);
//   ... after a restart: EDGEFL_RETURN_IF_ERROR(strategy->restore_state(decoded));
//
// Names are stable strings ("fedadam.m", "fedbuff.count"), so the checkpoint encoding
// (proto) needs no knowledge of strategies. Scalars are doubles (counters stay exact to 2^53).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "edgefl/base/float_buffer.hpp"
#include "edgefl/base/status.hpp"

namespace edgefl {

struct StrategyState {
  std::vector<std::pair<std::string, FloatBuffer>> buffers;
  std::vector<std::pair<std::string, double>> scalars;

  const FloatBuffer* find_buffer(std::string_view name) const;
  const double* find_scalar(std::string_view name) const;

  // OK if the named buffer exists with `size` values: failed_precondition if missing,
  // shape_mismatch if its size differs. Check everything before restoring anything, so a
  // bad state leaves the strategy untouched.
  Status check_buffer(std::string_view name, std::size_t size) const;
  // Copies the named buffer into `into` (same errors as check_buffer).
  Status restore_buffer(std::string_view name, FloatBuffer& into) const;
  Result<double> scalar(std::string_view name) const;
};

}  // namespace edgefl
