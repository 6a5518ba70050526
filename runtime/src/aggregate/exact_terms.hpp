// The per-value arithmetic of ExactMean, on the bits of the float values: each term
// factor * value becomes a 128-bit fixed-point integer V (units of 2^-70) added to the sum.
// Private to runtime/src/aggregate.
//
// The factor is an integer mantissa times a power of two, factor = mantissa * 2^exponent with
// mantissa < 2^29, so a term is the integer product mantissa * value_mantissa (< 2^53) shifted
// by the sum of the exponents: no floating-point operation, no rounding, except for terms
// with bits below the quantum. Those are rounded to nearest, ties to even, as the first
// ExactMean did (floor into 2^-6 units, the remainder rounded to double and then to 2^-70):
//   V = round(t * 2^70)             for t >= 0
//   V = -round(|t| * 2^59) * 2^11   for t < 0   (its remainder 2^-6 - fraction kept 53 bits)
// which only matters for |t| < 2^-7. The vector loop handles every value whose term has no
// bits below 2^-59, i.e. all but tiny terms; a scalar pass rounds the others.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace edgefl::aggregate_detail {

// A term factor in the integer form the loops use, and the smallest |value| whose term would
// reach the per-term limit (as float bits; values are finite, so integer order is float order).
struct TermFactor {
  uint32_t mantissa = 0;   // 0: every term is zero
  int32_t shift_base = 0;  // shift of a term with biased float exponent ef: max(ef, 1) + shift_base
  uint32_t limit_bits = 0x7f800000u;
};

// Writes the form of `factor` (0, or a positive double whose significand has at most 29 bits)
// into `out`; false when the factor is not of that form. Terms reaching `max_term` in magnitude
// are flagged by add_terms.
bool make_term_factor(double factor, double max_term, TermFactor& out);

struct TermFlags {
  bool too_large = false;  // some |factor * value| >= max_term
  bool overflow = false;   // some sum left the signed 128-bit range
};

// sum[i] += factor * values[i] (or -= when `subtract`), as 128-bit integers in units of 2^-70
// split into high (signed) and low words; wrapping, so a subtract undoes an add exactly.
TermFlags add_terms(std::span<int64_t> high, std::span<uint64_t> low, std::span<const float> values,
                    const TermFactor& factor, bool subtract);

}  // namespace edgefl::aggregate_detail
