#include "edgefl/base/rng.hpp"

#include <cmath>

namespace edgefl {

uint64_t splitmix64(uint64_t value) {
  value += 0x9E3779B97F4A7C15ull;
  value = (value ^ (value >> 30)) * 0xBF58476D1CE4E5B9ull;
  value = (value ^ (value >> 27)) * 0x94D049BB133111EBull;
  return value ^ (value >> 31);
}

Rng::Rng(uint64_t seed, uint64_t stream)
    : state_(splitmix64(seed)), increment_((splitmix64(stream ^ 0xDA3E39CB94B95BDBull) << 1) | 1) {
  next_u32();
}

uint32_t Rng::next_u32() {
  uint64_t old = state_;
  state_ = old * 6364136223846793005ull + increment_;
  uint32_t xorshifted = static_cast<uint32_t>(((old >> 18) ^ old) >> 27);
  uint32_t rotation = static_cast<uint32_t>(old >> 59);
  return (xorshifted >> rotation) | (xorshifted << ((32 - rotation) & 31));
}

uint64_t Rng::next_u64() {
  uint64_t high = next_u32();
  return (high << 32) | next_u32();
}

uint32_t Rng::below(uint32_t bound) {
  uint64_t product = uint64_t{next_u32()} * bound;
  uint32_t low = static_cast<uint32_t>(product);
  if (low < bound) {
    uint32_t threshold = static_cast<uint32_t>(-bound) % bound;
    while (low < threshold) {
      product = uint64_t{next_u32()} * bound;
      low = static_cast<uint32_t>(product);
    }
  }
  return static_cast<uint32_t>(product >> 32);
}

float Rng::uniform() { return static_cast<float>(next_u32() >> 8) * (1.0f / 16777216.0f); }

double Rng::uniform_double() {
  return static_cast<double>(next_u64() >> 11) * (1.0 / 9007199254740992.0);
}

double Rng::normal() {
  if (has_spare_normal_) {
    has_spare_normal_ = false;
    return spare_normal_;
  }
  double u1 = 0.0;
  do {
    u1 = uniform_double();
  } while (u1 <= 0.0);
  double u2 = uniform_double();
  double radius = std::sqrt(-2.0 * std::log(u1));
  double angle = 6.283185307179586 * u2;
  spare_normal_ = radius * std::sin(angle);
  has_spare_normal_ = true;
  return radius * std::cos(angle);
}

double Rng::gamma(double shape) {
  if (shape < 1.0) {
    // Boost to shape + 1 and scale back (Marsaglia-Tsang, section 6).
    double u = 0.0;
    do {
      u = uniform_double();
    } while (u <= 0.0);
    return gamma(shape + 1.0) * std::pow(u, 1.0 / shape);
  }
  double d = shape - 1.0 / 3.0;
  double c = 1.0 / std::sqrt(9.0 * d);
  while (true) {
    double x = normal();
    double v = 1.0 + c * x;
    if (v <= 0.0) continue;
    v = v * v * v;
    double u = uniform_double();
    if (u < 1.0 - 0.0331 * x * x * x * x) return d * v;
    if (u > 0.0 && std::log(u) < 0.5 * x * x + d * (1.0 - v + std::log(v))) return d * v;
  }
}

Rng Rng::fork(uint64_t stream_id) { return Rng(next_u64(), stream_id); }

}  // namespace edgefl
