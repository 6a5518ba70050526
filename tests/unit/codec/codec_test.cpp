#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "edgefl/codec/codec.hpp"
#include "edgefl/base/rng.hpp"

using namespace edgefl;

namespace {

constexpr std::size_t kCount = 10007;  // not a multiple of any block size

FloatBuffer random_delta(uint64_t seed, float scale = 0.01f) {
  Rng rng(seed);
  FloatBuffer delta(kCount);
  for (std::size_t i = 0; i < kCount; ++i) delta[i] = static_cast<float>(rng.normal()) * scale;
  return delta;
}

std::vector<float> decoded(const TensorView& view) {
  std::vector<float> out(view.parameter_count, -1.0f);
  Status s = decode_into(view, out);
  REQUIRE_MESSAGE(s.ok(), s.to_string());
  return out;
}

UpdateEncoder make_encoder(const CodecConfig& config, std::size_t count = kCount) {
  Result<UpdateEncoder> encoder = UpdateEncoder::create(config, count);
  REQUIRE_MESSAGE(encoder.ok(), encoder.status().to_string());
  return std::move(*encoder);
}

}  // namespace

TEST_CASE("codec: f32 round-trips exactly and is a view of the delta") {
  FloatBuffer delta = random_delta(1);
  UpdateEncoder encoder = make_encoder({.kind = CodecKind::f32});
  TensorView view = *encoder.encode(delta.span());
  CHECK(view.f32.data() == delta.data());
  std::vector<float> out = decoded(view);
  CHECK(std::equal(out.begin(), out.end(), delta.data()));
  CHECK(bytes_per_parameter({.kind = CodecKind::f32}, kCount) == 4.0);
}

TEST_CASE("codec: f16 error is within max(|x| 2^-11, 2^-25) and large values clamp") {
  FloatBuffer delta = random_delta(2, 10.0f);
  delta[0] = 1e-7f;        // subnormal in f16
  delta[1] = -3e-8f;       // rounds to zero
  delta[2] = 70000.0f;     // beyond f16 range: clamps to 65504
  delta[3] = 65504.0f;
  UpdateEncoder encoder = make_encoder({.kind = CodecKind::f16});
  std::vector<float> out = decoded(*encoder.encode(delta.span()));
  CHECK(out[2] == 65504.0f);
  CHECK(out[3] == 65504.0f);
  for (std::size_t i = 0; i < kCount; ++i) {
    if (i == 2) continue;
    const float bound = std::max(std::fabs(delta[i]) * 0x1p-11f, 0x1p-25f);
    REQUIRE_MESSAGE(std::fabs(out[i] - delta[i]) <= bound, "index " << i);
  }
  CHECK(bytes_per_parameter({.kind = CodecKind::f16}, kCount) == 2.0);
}

TEST_CASE("codec: int8 blocks stay within scale/2 and cost 1 + 4/B bytes") {
  FloatBuffer delta = random_delta(3);
  delta[70] = 0.5f;  // an outlier only widens its own block's scale
  const CodecConfig config{.kind = CodecKind::int8_block, .int8_block_size = 64};
  UpdateEncoder encoder = make_encoder(config);
  TensorView view = *encoder.encode(delta.span());
  REQUIRE(view.scales.size() == (kCount + 63) / 64);
  std::vector<float> out = decoded(view);
  for (std::size_t i = 0; i < kCount; ++i) {
    const float scale = view.scales[i / 64];
    REQUIRE_MESSAGE(std::fabs(out[i] - delta[i]) <= scale * 0.5f * 1.0001f + 1e-12f, "index " << i);
  }
  CHECK(view.scales[1] > 10 * view.scales[0]);
  CHECK(bytes_per_parameter(config, kCount) == doctest::Approx(1.0625));
}

TEST_CASE("codec: top-k keeps exactly the k largest magnitudes in increasing index order") {
  FloatBuffer delta = random_delta(4);
  const CodecConfig config{.kind = CodecKind::topk, .topk_k = 100};
  UpdateEncoder encoder = make_encoder(config);
  TensorView view = *encoder.encode(delta.span());
  REQUIRE(view.indices.size() == 100);
  REQUIRE(view.values.size() == 100);
  CHECK(std::is_sorted(view.indices.begin(), view.indices.end()));
  CHECK(std::adjacent_find(view.indices.begin(), view.indices.end()) == view.indices.end());

  std::vector<float> magnitudes(delta.data(), delta.data() + kCount);
  for (float& m : magnitudes) m = std::fabs(m);
  std::nth_element(magnitudes.begin(), magnitudes.begin() + 99, magnitudes.end(), std::greater<>());
  const float threshold = magnitudes[99];
  std::vector<float> out = decoded(view);
  std::size_t nonzero = 0;
  for (std::size_t i = 0; i < kCount; ++i) {
    if (out[i] != 0.0f) {
      ++nonzero;
      CHECK(out[i] == delta[i]);
      CHECK(std::fabs(delta[i]) >= threshold);
    }
  }
  CHECK(nonzero == 100);
  CHECK(bytes_per_parameter(config, kCount) == doctest::Approx(800.0 / kCount));
  CHECK(topk_count({.kind = CodecKind::topk, .topk_fraction = 0.01f}, kCount) == 101);
}

TEST_CASE("codec: error feedback sends what quantisation lost in later rounds") {
  // Sum of decoded updates + final residual == sum of deltas, for every lossy codec.
  for (CodecConfig config : {CodecConfig{.kind = CodecKind::f16},
                             CodecConfig{.kind = CodecKind::int8_block, .int8_block_size = 32},
                             CodecConfig{.kind = CodecKind::topk, .topk_fraction = 0.05f}}) {
    CAPTURE(codec_name(config.kind));
    UpdateEncoder encoder = make_encoder(config);
    std::vector<double> sent(kCount, 0.0), truth(kCount, 0.0);
    for (uint64_t round = 0; round < 5; ++round) {
      FloatBuffer delta = random_delta(10 + round);
      for (std::size_t i = 0; i < kCount; ++i) truth[i] += delta[i];
      std::vector<float> out = decoded(*encoder.encode(delta.span()));
      for (std::size_t i = 0; i < kCount; ++i) sent[i] += out[i];
    }
    double worst = 0.0;
    for (std::size_t i = 0; i < kCount; ++i) {
      worst = std::max(worst, std::fabs(sent[i] + encoder.residual()[i] - truth[i]));
    }
    CHECK(worst < 1e-5);
    encoder.reset_residual();
    CHECK(std::all_of(encoder.residual().begin(), encoder.residual().end(), [](float r) { return r == 0.0f; }));
  }
}

TEST_CASE("codec: encoder refuses bad configs, wrong sizes and non-finite deltas") {
  CHECK(UpdateEncoder::create({.kind = CodecKind::int8_block, .int8_block_size = 0}, 10).status().code() ==
        StatusCode::out_of_range);
  CHECK(UpdateEncoder::create({.kind = CodecKind::topk, .topk_k = 11}, 10).status().code() ==
        StatusCode::out_of_range);
  CHECK(UpdateEncoder::create({.kind = CodecKind::topk}, 10).status().code() == StatusCode::out_of_range);
  CHECK(UpdateEncoder::create({.kind = CodecKind::topk, .topk_fraction = NAN}, 10).status().code() ==
        StatusCode::non_finite);
  CHECK(UpdateEncoder::create({.kind = static_cast<CodecKind>(9)}, 10).status().code() == StatusCode::unknown_enum);

  UpdateEncoder encoder = make_encoder({.kind = CodecKind::int8_block}, 10);
  std::vector<float> wrong(9, 0.0f);
  CHECK(encoder.encode(wrong).status().code() == StatusCode::shape_mismatch);
  std::vector<float> bad(10, 0.0f);
  bad[4] = std::numeric_limits<float>::infinity();
  CHECK(encoder.encode(bad).status().code() == StatusCode::non_finite);
  UpdateEncoder plain = make_encoder({.kind = CodecKind::f32}, 10);
  bad[4] = NAN;
  CHECK(plain.encode(bad).status().code() == StatusCode::non_finite);
}

TEST_CASE("codec: decode_into rejects each kind of bad tensor with its own code") {
  std::vector<float> out(4);
  const float f32_values[4] = {1, 2, NAN, 4};
  TensorView f32{.kind = CodecKind::f32, .parameter_count = 4, .f32 = f32_values};
  CHECK(decode_into(f32, out).code() == StatusCode::non_finite);
  std::vector<float> short_out(3);
  CHECK(decode_into(f32, short_out).code() == StatusCode::shape_mismatch);
  f32.f32 = std::span<const float>(f32_values, 3);
  CHECK(decode_into(f32, out).code() == StatusCode::shape_mismatch);

  const uint16_t halves[4] = {0x3c00, 0x7c00, 0, 0};  // 1.0, +inf
  CHECK(decode_into({.kind = CodecKind::f16, .parameter_count = 4, .f16 = halves}, out).code() ==
        StatusCode::non_finite);

  const float scales[2] = {0.5f, -1.0f};
  const int8_t q[4] = {1, 2, 3, 4};
  TensorView int8{.kind = CodecKind::int8_block, .parameter_count = 4, .block_size = 2, .scales = scales, .int8 = q};
  CHECK(decode_into(int8, out).code() == StatusCode::out_of_range);
  int8.block_size = 3;  // needs 2 scales: fine shape, but 0 would be out of range
  const int8_t minus128[4] = {1, -128, 3, 4};
  const float good_scales[2] = {0.5f, 0.5f};
  int8.scales = good_scales;
  int8.int8 = minus128;
  CHECK(decode_into(int8, out).code() == StatusCode::out_of_range);
  int8.block_size = 4;  // one scale expected, two given
  CHECK(decode_into(int8, out).code() == StatusCode::shape_mismatch);
  int8.block_size = 0;
  CHECK(decode_into(int8, out).code() == StatusCode::out_of_range);
  // A finite scale so large that 127 x scale overflows (found by fuzz_decode): refused, not inf.
  const float huge_scales[2] = {0.5f, 1.07e38f};
  const int8_t q127[4] = {1, 2, 127, 4};
  TensorView overflowing{.kind = CodecKind::int8_block, .parameter_count = 4, .block_size = 2,
                         .scales = huge_scales, .int8 = q127};
  CHECK(decode_into(overflowing, out).code() == StatusCode::out_of_range);
  const float largest_scales[2] = {0.5f, std::numeric_limits<float>::max() / 128.0f};
  overflowing.scales = largest_scales;
  REQUIRE(decode_into(overflowing, out).ok());  // large, but every value fits
  CHECK(std::isfinite(out[2]));

  const uint32_t unsorted[2] = {2, 1};
  const uint32_t too_big[2] = {1, 4};
  const float values[2] = {1.0f, 2.0f};
  TensorView topk{.kind = CodecKind::topk, .parameter_count = 4, .indices = unsorted, .values = values};
  CHECK(decode_into(topk, out).code() == StatusCode::out_of_range);
  topk.indices = too_big;
  CHECK(decode_into(topk, out).code() == StatusCode::out_of_range);
  topk.values = std::span<const float>(values, 1);
  CHECK(decode_into(topk, out).code() == StatusCode::shape_mismatch);

  CHECK(decode_into({.kind = static_cast<CodecKind>(7), .parameter_count = 4}, out).code() ==
        StatusCode::unknown_enum);
}
