#include "exact_terms.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace edgefl::aggregate_detail {

namespace {

// Work goes in fixed-size chunks: a constant trip count lets GCC vectorise the loop at -O2,
// and the chunk is still in L1 when the rare scalar pass revisits it.
constexpr std::size_t kChunk = 1024;

// Terms with a shift below this have bits under 2^-59 (see the header): the scalar pass.
constexpr int32_t kMinVectorShift = 11;

// On x86-64 an AVX-512 (x86-64-v4) and an AVX2 clone are picked at load time (the baseline
// build targets SSE2 only); ARM builds vectorise with NEON from the baseline.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define EDGEFL_VECTOR_CLONES [[gnu::target_clones("arch=x86-64-v4", "avx2", "default")]]
#else
#define EDGEFL_VECTOR_CLONES
#endif

struct Value {
  uint64_t product;  // factor mantissa * value mantissa, < 2^53
  int32_t shift;     // term = product * 2^(shift - 70)
  uint64_t sign;     // all ones when the term is negative (or, when subtracting, positive)
};

inline Value decompose(uint32_t bits, const TermFactor& factor, uint64_t flip) {
  const uint32_t exponent = (bits >> 23) & 0xffu;
  const uint32_t mantissa = (bits & 0x7fffffu) | (exponent != 0 ? 0x800000u : 0u);
  return Value{uint64_t{factor.mantissa} * mantissa,
               static_cast<int32_t>(exponent != 0 ? exponent : 1u) + factor.shift_base,
               (uint64_t{0} - (bits >> 31)) ^ flip};
}

// sum += (sign ? -magnitude : magnitude) on the two words; returns a word whose top bit is set
// when the signed 128-bit sum wrapped (both operands of one sign, the result of the other).
inline uint64_t accumulate(int64_t& high, uint64_t& low, uint64_t magnitude_high,
                           uint64_t magnitude_low, uint64_t sign) {
  // -x = ~x + 1: complement both words, then add the 1 and the carries into the low word.
  const uint64_t term_high = magnitude_high ^ sign;
  const uint64_t term_low = magnitude_low ^ sign;
  const uint64_t one = sign & 1u;
  const uint64_t partial = low + term_low;
  const uint64_t carry = partial < term_low ? 1u : 0u;
  const uint64_t new_low = partial + one;
  const uint64_t carry_one = new_low < one ? 1u : 0u;
  const uint64_t old_high = static_cast<uint64_t>(high);
  const uint64_t new_high = old_high + term_high + carry + carry_one;
  low = new_low;
  high = static_cast<int64_t>(new_high);
  // A zero magnitude with sign set leaves the sum unchanged, so its wrong "sign" never flags.
  return (old_high ^ new_high) & (term_high ^ new_high);
}

struct ChunkFlags {
  uint32_t too_large = 0;
  uint32_t tiny = 0;  // some term needs the scalar pass
  uint64_t overflow = 0;
};

// The vector loop: exact shifts of every term with no bits below 2^-59; tiny terms add zero
// here and are flagged for round_tiny_terms. Too-large terms add a wrong (but reproducible)
// value: the caller then undoes the whole update.
[[gnu::always_inline]] inline void add_values(int64_t* __restrict high, uint64_t* __restrict low,
                                              const float* __restrict values, std::size_t n,
                                              const TermFactor& factor, uint64_t flip,
                                              ChunkFlags& flags) {
  uint32_t too_large = 0;
  uint32_t tiny = 0;
  uint64_t overflow = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const uint32_t bits = std::bit_cast<uint32_t>(values[i]);
    const Value value = decompose(bits, factor, flip);
    too_large |= (bits & 0x7fffffffu) >= factor.limit_bits ? 1u : 0u;
    const bool is_tiny = value.shift < kMinVectorShift;
    tiny |= is_tiny && value.product != 0 ? 1u : 0u;
    const uint64_t product = is_tiny ? 0 : value.product;
    // shift in [11, 127]: a 128-bit left shift without shifting by 64 or more.
    const uint32_t shift = static_cast<uint32_t>(value.shift < 127 ? value.shift : 127);
    const uint32_t within = shift & 63u;
    const uint64_t shifted = product << within;
    const uint64_t spill = (product >> 1) >> (63u - within);
    const bool upper = shift >= 64u;
    overflow |=
        accumulate(high[i], low[i], upper ? shifted : spill, upper ? 0 : shifted, value.sign);
  }
  flags.too_large |= too_large;
  flags.tiny |= tiny;
  flags.overflow |= overflow;
}

EDGEFL_VECTOR_CLONES
void add_chunk(int64_t* __restrict high, uint64_t* __restrict low, const float* __restrict values,
               const TermFactor& factor, uint64_t flip, ChunkFlags& flags) {
  add_values(high, low, values, kChunk, factor, flip, flags);
}

// product * 2^shift rounded to an integer, ties to even; shift < 64 - 53 keeps it in 64 bits.
uint64_t scale_rounded(uint64_t product, int32_t shift) {
  if (shift >= 0) return product << shift;
  if (shift <= -64) return 0;  // product < 2^53: below one half
  const int drop = -shift;
  const uint64_t kept = product >> drop;
  const uint64_t rest = product & ((uint64_t{1} << drop) - 1);
  const uint64_t half = uint64_t{1} << (drop - 1);
  return kept + ((rest > half || (rest == half && (kept & 1u) != 0)) ? 1u : 0u);
}

// The terms add_values left out: positive ones rounded to 2^-70, negative ones to 2^-59.
uint64_t round_tiny_terms(int64_t* high, uint64_t* low, const float* values, std::size_t n,
                          const TermFactor& factor, uint64_t flip) {
  uint64_t overflow = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const uint32_t bits = std::bit_cast<uint32_t>(values[i]);
    const Value value = decompose(bits, factor, flip);
    if (value.shift >= kMinVectorShift || value.product == 0) continue;
    const uint64_t magnitude = (bits >> 31) == 0
                                   ? scale_rounded(value.product, value.shift)
                                   : scale_rounded(value.product, value.shift - 11) << 11;
    overflow |= accumulate(high[i], low[i], 0, magnitude, value.sign);
  }
  return overflow;
}

}  // namespace

bool make_term_factor(double factor, double max_term, TermFactor& out) {
  out = TermFactor{};
  if (factor == 0.0) return true;
  if (!(factor > 0.0) || !std::isfinite(factor)) return false;
  const uint64_t bits = std::bit_cast<uint64_t>(factor);
  const uint64_t biased = bits >> 52;
  uint64_t mantissa = (bits & ((uint64_t{1} << 52) - 1)) | (biased != 0 ? uint64_t{1} << 52 : 0);
  int32_t exponent = static_cast<int32_t>(biased != 0 ? biased : 1) - 1075;
  const int zeros = std::countr_zero(mantissa);
  mantissa >>= zeros;
  exponent += zeros;
  if (mantissa >= (uint64_t{1} << 29)) return false;
  out.mantissa = static_cast<uint32_t>(mantissa);
  // value = value_mantissa * 2^(max(ef, 1) - 150); the term in units of 2^-70 adds 70.
  out.shift_base = exponent - 150 + 70;
  // The smallest float whose term reaches max_term (products of these are exact in double).
  float limit = static_cast<float>(max_term / factor);
  while (limit > 0.0f && factor * std::nextafter(limit, 0.0f) >= max_term)
    limit = std::nextafter(limit, 0.0f);
  while (std::isfinite(limit) && factor * limit < max_term) limit = std::nextafter(limit, INFINITY);
  out.limit_bits = std::bit_cast<uint32_t>(limit);
  return true;
}

TermFlags add_terms(std::span<int64_t> high, std::span<uint64_t> low, std::span<const float> values,
                    const TermFactor& factor, bool subtract) {
  const uint64_t flip = subtract ? ~uint64_t{0} : 0;
  ChunkFlags flags;
  uint64_t overflow = 0;
  for (std::size_t start = 0; start < values.size(); start += kChunk) {
    const std::size_t n = std::min(kChunk, values.size() - start);
    int64_t* chunk_high = high.data() + start;
    uint64_t* chunk_low = low.data() + start;
    const float* chunk_values = values.data() + start;
    ChunkFlags chunk;
    if (n == kChunk) {
      add_chunk(chunk_high, chunk_low, chunk_values, factor, flip, chunk);
    } else {
      add_values(chunk_high, chunk_low, chunk_values, n, factor, flip, chunk);
    }
    if (chunk.tiny != 0)
      overflow |= round_tiny_terms(chunk_high, chunk_low, chunk_values, n, factor, flip);
    flags.too_large |= chunk.too_large;
    flags.overflow |= chunk.overflow;
  }
  return TermFlags{flags.too_large != 0, ((flags.overflow | overflow) >> 63) != 0};
}

}  // namespace edgefl::aggregate_detail
