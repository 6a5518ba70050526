// Codec benchmark: encode, verify + decode-into-buffer throughput per codec for one update of
// the mlp:784-256-128-10 model (235,146 parameters), next to memcpy bandwidth of the same
// number of bytes measured in the same run.
//
//   build/native/bench/wire/wire_codec_bench [--parameters N] [--seconds S]
//
// stdout: one JSON object per line; stderr: a table. GB/s counts the dense float32 bytes
// (4 * parameters) a pass produces or consumes, so codecs compare on the same footing.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "edgefl/codec/codec.hpp"
#include "edgefl/proto/proto.hpp"
#include "edgefl/base/rng.hpp"

using namespace edgefl;
using Clock = std::chrono::steady_clock;

namespace {

// Median seconds per call over `batches` batches of calls, each batch lasting ~seconds/batches.
template <typename Fn>
double seconds_per_call(Fn&& fn, double seconds) {
  constexpr int kBatches = 7;
  const auto start = Clock::now();
  int calibrate = 0;
  while (std::chrono::duration<double>(Clock::now() - start).count() < 0.02) {
    fn();
    ++calibrate;
  }
  const double per_call = 0.02 / std::max(calibrate, 1);
  const int calls = std::max(1, static_cast<int>(seconds / kBatches / per_call));
  std::vector<double> samples;
  for (int b = 0; b < kBatches; ++b) {
    const auto t0 = Clock::now();
    for (int i = 0; i < calls; ++i) fn();
    samples.push_back(std::chrono::duration<double>(Clock::now() - t0).count() / calls);
  }
  std::sort(samples.begin(), samples.end());
  return samples[kBatches / 2];
}

volatile float g_sink = 0.0f;  // keeps results observable so loops are not optimised away

}  // namespace

int main(int argc, char** argv) {
  std::size_t parameters = 235146;
  double seconds = 0.5;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--parameters") parameters = std::stoul(argv[i + 1]);
    else if (flag == "--seconds") seconds = std::stod(argv[i + 1]);
  }
  const double dense_bytes = 4.0 * static_cast<double>(parameters);

  Rng rng(1);
  FloatBuffer delta(parameters), out(parameters), copy(parameters);
  for (std::size_t i = 0; i < parameters; ++i) delta[i] = static_cast<float>(rng.normal()) * 0.01f;

  const double memcpy_s = seconds_per_call([&] {
    std::memcpy(copy.data(), delta.data(), delta.size_bytes());
    g_sink = g_sink + copy[parameters / 2];
  }, seconds);
  const double memcpy_gbs = dense_bytes / memcpy_s / 1e9;
  std::printf("{\"bench\":\"wire_codec\",\"case\":\"memcpy\",\"parameters\":%zu,\"gb_per_s\":%.3f}\n",
              parameters, memcpy_gbs);
  std::fprintf(stderr, "%-12s %10s %9s %10s %10s %10s %9s\n", "codec", "wire B", "B/param",
               "enc GB/s", "dec GB/s", "dec+copy", "dec/mcpy");
  std::fprintf(stderr, "%-12s %10s %9s %10s %10.2f %10s %9s\n", "memcpy", "", "", "", memcpy_gbs, "", "1.00");

  const CodecConfig configs[] = {{.kind = CodecKind::f32},
                                 {.kind = CodecKind::f16},
                                 {.kind = CodecKind::int8_block, .int8_block_size = 64},
                                 {.kind = CodecKind::topk, .topk_fraction = 0.01f}};
  for (const CodecConfig& config : configs) {
    UpdateEncoder encoder = UpdateEncoder::create(config, parameters).value();
    Update update{.update_id = 1,
                  .task_id = 1,
                  .round = 1,
                  .base_version = 1,
                  .sample_count = 600,
                  .metrics = {.train_loss = 0.5f, .steps = 10, .batch_sizes = {32}},
                  .payload = {},
                  .run_id = 0,
                  .base_hash = 0,
                  .partial_sum = {}};
    std::vector<uint8_t> bytes;
    auto encode = [&] {
      update.payload = encoder.encode(delta.span()).value();
      bytes = encode_message(update).value();
    };
    const double encode_s = seconds_per_call(encode, seconds);

    AlignedBytes scratch;
    auto decode_from = [&](std::span<const uint8_t> input) {
      Result<DecodedMessage> decoded = decode_message(input, scratch);
      if (!decoded.ok() || !decoded->payload_into(out.span()).ok()) std::abort();
      g_sink = g_sink + out[parameters / 2];
    };
    // `bytes` comes from std::vector (malloc, 16-byte aligned): read in place, zero copy.
    const double decode_s = seconds_per_call([&] { decode_from(bytes); }, seconds);
    // A ZeroMQ frame at an odd address: one extra aligned copy first.
    std::vector<uint8_t> shifted_storage(bytes.size() + 1);
    std::memcpy(shifted_storage.data() + 1, bytes.data(), bytes.size());
    const std::span<const uint8_t> shifted(shifted_storage.data() + 1, bytes.size());
    const double decode_copy_s = seconds_per_call([&] { decode_from(shifted); }, seconds);

    const double encode_gbs = dense_bytes / encode_s / 1e9;
    const double decode_gbs = dense_bytes / decode_s / 1e9;
    const double decode_copy_gbs = dense_bytes / decode_copy_s / 1e9;
    const double wire_per_param = static_cast<double>(bytes.size()) / static_cast<double>(parameters);
    std::printf("{\"bench\":\"wire_codec\",\"case\":\"%s\",\"parameters\":%zu,\"wire_bytes\":%zu,"
                "\"bytes_per_parameter\":%.4f,\"stated_bytes_per_parameter\":%.4f,"
                "\"encode_gb_per_s\":%.3f,\"verify_decode_gb_per_s\":%.3f,"
                "\"verify_decode_misaligned_gb_per_s\":%.3f,\"memcpy_gb_per_s\":%.3f,"
                "\"verify_decode_over_memcpy\":%.3f,\"verify_decode_misaligned_over_memcpy\":%.3f}\n",
                std::string(codec_name(config.kind)).c_str(), parameters, bytes.size(), wire_per_param,
                bytes_per_parameter(config, parameters), encode_gbs, decode_gbs, decode_copy_gbs,
                memcpy_gbs, decode_gbs / memcpy_gbs, decode_copy_gbs / memcpy_gbs);
    std::fprintf(stderr, "%-12s %10zu %9.3f %10.2f %10.2f %10.2f %9.2f\n",
                 std::string(codec_name(config.kind)).c_str(), bytes.size(), wire_per_param, encode_gbs,
                 decode_gbs, decode_copy_gbs, decode_gbs / memcpy_gbs);
  }
  return 0;
}
