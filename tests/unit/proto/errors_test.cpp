// Every kind of bad input gets its own StatusCode. Hostile buffers are built with the
// generated FlatBuffers builders directly, bypassing encode_message's sender-side checks.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <optional>

#include "edgefl/proto/proto.hpp"
#include "edgefl/base/rng.hpp"
#include "edgefl/schema/wire_generated.h"
#include "golden_samples.hpp"
#include "test_util.hpp"

using namespace edgefl;
using flatbuffers::FlatBufferBuilder;

namespace {

std::vector<uint8_t> finish(FlatBufferBuilder& b, fb::Message type, flatbuffers::Offset<void> body,
                            uint16_t version = kProtocolVersion) {
  fb::FinishSizePrefixedEnvelopeBuffer(b, fb::CreateEnvelope(b, version, type, body));
  return {b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize()};
}

struct LayerParts {
  uint8_t kind = 0;
  uint32_t units = 0;
  uint32_t kernel = 1;
  uint8_t padding = 0;
};

// golden::kModelSpec, mlp:4-3-2:relu, as a table.
struct ModelParts {
  uint32_t input_c = 4;
  std::vector<LayerParts> layers = {{.kind = 0, .units = 3}, {.kind = 1}, {.kind = 0, .units = 2}};
  uint8_t loss = 0;
};

flatbuffers::Offset<fb::Model> hostile_model(FlatBufferBuilder& b, const ModelParts& p) {
  std::vector<flatbuffers::Offset<fb::Layer>> layers;
  for (const LayerParts& l : p.layers) {
    layers.push_back(fb::CreateLayer(b, l.kind, l.units, l.kernel, l.kernel, 1, 1, 1, 1, l.padding));
  }
  return fb::CreateModel(b, 1, 1, p.input_c, b.CreateVector(layers), p.loss);
}

struct TaskParts {
  std::string spec = golden::kModelSpec;
  uint32_t parameter_count = golden::kParameters;
  std::size_t values = golden::kParameters;
  float lr = 0.1f;
  uint32_t batch_size = 8;
  uint8_t optimizer = 0;
  bool with_config = true;
  bool adaptive = false;  // an adaptive_batch table (norm test) with the three 1.4 fields below
  uint8_t lr_scaling = 0;
  float max_lr = 0.0f;
  uint8_t interval_clock = 0;
  uint8_t lr_schedule = 0;  // 1.4 fields
  uint32_t lr_warmup_steps = 0;
  uint32_t lr_total_steps = 0;
  float clip_norm = 0.0f;
  std::optional<ModelParts> model = {};  // 1.5 fields
  std::vector<uint32_t> trainable = {};
};

std::vector<uint8_t> hostile_task(const TaskParts& p) {
  FlatBufferBuilder b;
  std::vector<float> values(p.values, 0.5f);
  const auto tensor = fb::CreateEncodedTensor(b, fb::Codec::f32, p.parameter_count, b.CreateVector(values));
  flatbuffers::Offset<fb::TrainConfig> config = 0;
  if (p.with_config) {
    flatbuffers::Offset<fb::AdaptiveBatchConfig> adaptive = 0;
    if (p.adaptive) {
      adaptive = fb::CreateAdaptiveBatchConfig(b, 0.5f, 0.1f, 64, 0, 1, 1.0f, p.lr_scaling, p.max_lr, p.interval_clock);
    }
    fb::TrainConfigBuilder c(b);
    if (p.adaptive) c.add_adaptive_batch(adaptive);
    c.add_optimizer(static_cast<fb::Optimizer>(p.optimizer));
    c.add_lr(p.lr);
    c.add_batch_size(p.batch_size);
    c.add_local_steps(5);
    c.add_lr_schedule(p.lr_schedule);
    c.add_lr_warmup_steps(p.lr_warmup_steps);
    c.add_lr_total_steps(p.lr_total_steps);
    c.add_clip_norm(p.clip_norm);
    config = c.Finish();
  }
  const auto spec = b.CreateString(p.spec);
  const auto model = p.model ? hostile_model(b, *p.model) : 0;
  const auto trainable = p.trainable.empty() ? 0 : b.CreateVector(p.trainable);
  return finish(b, fb::Message::Task,
                fb::CreateTask(b, 1, 1, 1, spec, tensor, config, 0, 0, 0, 0, model, trainable).Union());
}

struct UpdateParts {
  uint8_t codec = 0;
  uint32_t parameter_count = golden::kParameters;
  std::vector<float> values = std::vector<float>(golden::kParameters, 0.25f);
  float train_loss = 0.5f;
  uint64_t sample_count = 10;
};

std::vector<uint8_t> hostile_update(const UpdateParts& p) {
  FlatBufferBuilder b;
  const auto tensor = fb::CreateEncodedTensor(b, static_cast<fb::Codec>(p.codec), p.parameter_count,
                                              b.CreateVector(p.values));
  const auto metrics = fb::CreateMetrics(b, p.train_loss, 3);
  return finish(b, fb::Message::Update, fb::CreateUpdate(b, 9, 1, 1, 1, p.sample_count, metrics, tensor).Union());
}

StatusCode decode_code(const std::vector<uint8_t>& bytes, const DecodeLimits& limits = {}) {
  AlignedBytes scratch;
  Result<DecodedMessage> decoded = decode_message(bytes, scratch, limits);
  return decoded.ok() ? StatusCode::ok : decoded.status().code();
}

StatusCode payload_code(const std::vector<uint8_t>& bytes) {
  AlignedBytes scratch;
  Result<DecodedMessage> decoded = decode_message(bytes, scratch);
  REQUIRE_MESSAGE(decoded.ok(), decoded.status().to_string());
  FloatBuffer out(golden::kParameters);
  return decoded->payload_into(out.span()).code();
}

std::vector<uint8_t> sample_bytes(std::size_t index) {
  auto samples = golden::make_samples();
  return encode_message(samples->messages[index].second).value();
}

}  // namespace

TEST_CASE("errors: the hostile builders make valid messages when nothing is wrong") {
  CHECK(decode_code(hostile_task({})) == StatusCode::ok);
  CHECK(decode_code(hostile_update({})) == StatusCode::ok);
  CHECK(payload_code(hostile_update({})) == StatusCode::ok);
}

TEST_CASE("errors: size limit -> too_large") {
  std::vector<uint8_t> bytes = sample_bytes(2);
  CHECK(decode_code(bytes, {.max_message_bytes = bytes.size()}) == StatusCode::ok);
  CHECK(decode_code(bytes, {.max_message_bytes = bytes.size() - 1}) == StatusCode::too_large);
}

TEST_CASE("errors: short input -> truncated") {
  std::vector<uint8_t> bytes = sample_bytes(3);
  std::vector<uint8_t> cut(bytes.begin(), bytes.end() - 1);
  CHECK(decode_code(cut) == StatusCode::truncated);
  cut.resize(bytes.size() / 2);
  CHECK(decode_code(cut) == StatusCode::truncated);
  cut.resize(7);
  CHECK(decode_code(cut) == StatusCode::truncated);
  CHECK(decode_code({}) == StatusCode::truncated);
}

TEST_CASE("errors: trailing bytes, foreign identifier, broken offsets -> corrupt") {
  std::vector<uint8_t> bytes = sample_bytes(0);
  std::vector<uint8_t> longer = bytes;
  longer.push_back(0);
  CHECK(decode_code(longer) == StatusCode::corrupt);
  std::vector<uint8_t> foreign = bytes;
  foreign[8] = 'X';
  CHECK(decode_code(foreign) == StatusCode::corrupt);
  std::vector<uint8_t> broken = bytes;
  test::write_u32(broken, 4, 0x7ffffff0u);  // root offset far outside the buffer
  CHECK(decode_code(broken) == StatusCode::corrupt);
  std::vector<uint8_t> noise(64, 0xab);
  test::write_u32(noise, 0, 60);
  std::memcpy(noise.data() + 8, "EFLW", 4);
  CHECK(decode_code(noise) == StatusCode::corrupt);

  FlatBufferBuilder b;
  CHECK(decode_code(finish(b, fb::Message::NONE, 0)) == StatusCode::corrupt);
  CHECK(decode_code(hostile_task({.with_config = false})) == StatusCode::corrupt);
  // A checkpoint is not a message.
  auto samples = golden::make_samples();
  CHECK(decode_code(encode_checkpoint(samples->checkpoint).value()) == StatusCode::corrupt);
}

TEST_CASE("errors: offsets off their natural alignment inside the buffer -> misaligned") {
  std::vector<uint8_t> bytes = sample_bytes(3);
  // Padding by 8 keeps every alignment: proves the re-framing itself is sound.
  CHECK(decode_code(test::misalign_inside(bytes, 8)) == StatusCode::ok);
  CHECK(decode_code(test::misalign_inside(bytes, 2)) == StatusCode::misaligned);
  CHECK(decode_code(test::misalign_inside(sample_bytes(10), 1)) == StatusCode::misaligned);
  // Shifted by 4, 8-byte fields are off but the root table is not: still refused, as corrupt.
  CHECK(decode_code(test::misalign_inside(sample_bytes(10), 4)) == StatusCode::corrupt);
}

TEST_CASE("errors: another major version -> version_mismatch") {
  CHECK(decode_code(encode_message(Heartbeat{}, 0x0200).value()) == StatusCode::version_mismatch);
  CHECK(decode_code(encode_message(Heartbeat{}, 0x0000).value()) == StatusCode::version_mismatch);
  // Even when the rest of the buffer does not verify, the version is read and refused.
  std::vector<uint8_t> future = encode_message(Task(std::get<Task>(golden::make_samples()->messages[2].second)), 0x0300).value();
  std::vector<uint8_t> damaged(future.begin(), future.end());
  test::write_u32(damaged, damaged.size() - 4, 0x7fffffffu);  // clobber the last word
  CHECK(decode_code(damaged) == StatusCode::version_mismatch);
}

TEST_CASE("errors: enum values this build does not know -> unknown_enum") {
  FlatBufferBuilder b1;
  CHECK(decode_code(finish(b1, static_cast<fb::Message>(42), fb::CreateHeartbeat(b1, 1, 2).Union())) ==
        StatusCode::unknown_enum);
  FlatBufferBuilder b2;
  CHECK(decode_code(finish(b2, fb::Message::Ack, fb::CreateAck(b2, 1, 1, static_cast<fb::AckStatus>(9)).Union())) ==
        StatusCode::unknown_enum);
  FlatBufferBuilder b3;
  const auto text = b3.CreateString("x");
  CHECK(decode_code(finish(b3, fb::Message::Reject, fb::CreateReject(b3, 999, text).Union())) ==
        StatusCode::unknown_enum);
  CHECK(decode_code(hostile_update({.codec = 9})) == StatusCode::unknown_enum);
  CHECK(decode_code(hostile_task({.optimizer = 7})) == StatusCode::unknown_enum);
  CHECK(decode_code(hostile_task({.adaptive = true, .lr_scaling = 3})) == StatusCode::unknown_enum);
  CHECK(decode_code(hostile_task({.adaptive = true, .interval_clock = 2})) == StatusCode::unknown_enum);
  CHECK(decode_code(hostile_task({.lr_schedule = 3})) == StatusCode::unknown_enum);
  FlatBufferBuilder b4;
  std::vector<fb::Codec> codecs{fb::Codec::f32, static_cast<fb::Codec>(200)};
  const auto caps = fb::CreateCapabilities(b4, 0, 2, 0, 0, 0, b4.CreateVector(codecs));
  CHECK(decode_code(finish(b4, fb::Message::Join, fb::CreateJoin(b4, 0, caps).Union())) ==
        StatusCode::unknown_enum);
}

TEST_CASE("errors: NaN or Inf anywhere -> non_finite") {
  CHECK(decode_code(hostile_task({.lr = std::numeric_limits<float>::quiet_NaN()})) == StatusCode::non_finite);
  CHECK(decode_code(hostile_update({.train_loss = std::numeric_limits<float>::infinity()})) ==
        StatusCode::non_finite);
  UpdateParts nan_payload;
  nan_payload.values[17] = std::numeric_limits<float>::quiet_NaN();
  CHECK(decode_code(hostile_update(nan_payload)) == StatusCode::ok);  // values are checked by payload_into
  CHECK(payload_code(hostile_update(nan_payload)) == StatusCode::non_finite);

  Task task = std::get<Task>(golden::make_samples()->messages[2].second);
  task.config.lr = std::numeric_limits<float>::infinity();
  CHECK(encode_message(task).status().code() == StatusCode::non_finite);  // the sender refuses too
}

TEST_CASE("errors: sizes that disagree with the model or codec -> shape_mismatch") {
  CHECK(decode_code(hostile_task({.parameter_count = 25, .values = 25})) == StatusCode::shape_mismatch);
  CHECK(decode_code(hostile_task({.spec = "mlp:4-3-3:relu"})) == StatusCode::shape_mismatch);
  CHECK(decode_code(hostile_update({.parameter_count = 27})) == StatusCode::shape_mismatch);
  CHECK(payload_code(hostile_update({.parameter_count = 20, .values = std::vector<float>(20, 1.0f)})) ==
        StatusCode::shape_mismatch);
}

TEST_CASE("errors: values outside their sane range -> out_of_range, oversize fields -> too_large") {
  CHECK(decode_code(hostile_task({.batch_size = 0})) == StatusCode::ok);  // the whole shard (full-batch GD)
  CHECK(decode_code(hostile_task({.batch_size = 0, .adaptive = true})) == StatusCode::out_of_range);
  CHECK(decode_code(hostile_task({.batch_size = (1u << 20) + 1})) == StatusCode::out_of_range);
  CHECK(decode_code(hostile_task({.lr = -1.0f})) == StatusCode::out_of_range);
  CHECK(decode_code(hostile_task({.adaptive = true, .lr_scaling = 2, .max_lr = 0.4f, .interval_clock = 1})) ==
        StatusCode::ok);
  CHECK(decode_code(hostile_task({.adaptive = true, .max_lr = -0.5f})) == StatusCode::out_of_range);
  CHECK(decode_code(hostile_task({.adaptive = true, .max_lr = 0.05f})) == StatusCode::out_of_range);  // < lr 0.1
  CHECK(decode_code(hostile_task({.adaptive = true, .max_lr = std::numeric_limits<float>::infinity()})) ==
        StatusCode::non_finite);
  CHECK(decode_code(hostile_update({.sample_count = 0})) == StatusCode::out_of_range);
  CHECK(decode_code(sample_bytes(2), {.max_tables = 3}) == StatusCode::out_of_range);
  CHECK(decode_code(sample_bytes(2), {.max_depth = 2}) == StatusCode::out_of_range);

  Join join = std::get<Join>(golden::make_samples()->messages[0].second);
  join.device_id.assign(5000, 'a');
  CHECK(encode_message(join).status().code() == StatusCode::too_large);
  FlatBufferBuilder b;
  const auto id = b.CreateString(std::string(5000, 'a'));
  const auto caps = fb::CreateCapabilities(b, 0, 2);
  CHECK(decode_code(finish(b, fb::Message::Join, fb::CreateJoin(b, id, caps).Union())) == StatusCode::too_large);
  CHECK(decode_code(hostile_update({}), {.max_parameters = 10}) == StatusCode::too_large);
}

TEST_CASE("errors: 1.4 schedule and clip settings outside their range -> out_of_range") {
  CHECK(decode_code(hostile_task({.clip_norm = -1.0f})) == StatusCode::out_of_range);
  CHECK(decode_code(hostile_task({.clip_norm = std::numeric_limits<float>::infinity()})) == StatusCode::non_finite);
  CHECK(decode_code(hostile_task({.lr_schedule = 1, .lr_warmup_steps = 0})) == StatusCode::out_of_range);
  CHECK(decode_code(hostile_task({.lr_schedule = 2, .lr_warmup_steps = 10, .lr_total_steps = 10})) ==
        StatusCode::out_of_range);
  CHECK(decode_code(hostile_task({.lr_schedule = 2, .lr_warmup_steps = 10, .lr_total_steps = 11})) == StatusCode::ok);
}

TEST_CASE("errors: a handed-over optimizer state of the wrong size for the optimizer -> shape_mismatch") {
  auto samples = golden::make_samples(0x0104);
  Task task = std::get<Task>(samples->messages[2].second);
  REQUIRE(task.optimizer_state.parameter_count == golden::kParameters);  // nesterov: P floats
  CHECK(encode_message(task).ok());
  std::vector<float> short_state(golden::kParameters - 1, 0.5f);
  task.optimizer_state = f32_tensor(short_state);
  CHECK(encode_message(task).status().code() == StatusCode::shape_mismatch);
  task.config.optimizer = OptimizerKind::sgd;  // keeps no state at all
  std::vector<float> state(golden::kParameters, 0.5f);
  task.optimizer_state = f32_tensor(state);
  CHECK(encode_message(task).status().code() == StatusCode::shape_mismatch);
}

TEST_CASE("errors: random corruption of every sample never crashes and never yields a bad payload") {
  auto samples = golden::make_samples();
  Rng rng(7);
  AlignedBytes scratch;
  FloatBuffer out(golden::kParameters);
  std::size_t rejected = 0, accepted = 0;
  for (const auto& [name, message] : samples->messages) {
    const std::vector<uint8_t> original = encode_message(message).value();
    for (int trial = 0; trial < 300; ++trial) {
      std::vector<uint8_t> bytes = original;
      const uint32_t flips = 1 + rng.below(4);
      for (uint32_t f = 0; f < flips; ++f) bytes[rng.below(static_cast<uint32_t>(bytes.size()))] ^= static_cast<uint8_t>(1u << rng.below(8));
      Result<DecodedMessage> decoded = decode_message(bytes, scratch);
      if (!decoded.ok()) {
        ++rejected;
        CHECK(decoded.status().code() != StatusCode::ok);
        continue;
      }
      ++accepted;
      if (decoded->payload() != nullptr && decoded->payload()->parameter_count == golden::kParameters) {
        if (decoded->payload_into(out.span()).ok()) {
          for (float v : out.span()) REQUIRE(std::isfinite(v));
        }
      }
    }
  }
  CHECK(rejected > 0);
  CHECK(accepted > 0);  // flips in value bytes are legitimately accepted
}

std::string decoded_spec(const std::vector<uint8_t>& bytes) {
  AlignedBytes scratch;
  Result<DecodedMessage> decoded = decode_message(bytes, scratch);
  REQUIRE_MESSAGE(decoded.ok(), decoded.status().to_string());
  return std::get<Task>(decoded->message).model_spec;
}

std::string decode_error(const std::vector<uint8_t>& bytes) {
  AlignedBytes scratch;
  Result<DecodedMessage> decoded = decode_message(bytes, scratch);
  return decoded.ok() ? std::string() : std::string(decoded.status().message());
}

TEST_CASE("errors: 1.5 model tables: a table alone names the model, one that disagrees with the text is refused") {
  CHECK(decode_code(hostile_task({.model = ModelParts{}})) == StatusCode::ok);
  CHECK(decoded_spec(hostile_task({.spec = "", .model = ModelParts{}})) == golden::kModelSpec);

  ModelParts relu6;
  relu6.layers[1].kind = 2;
  const auto mismatch = hostile_task({.model = relu6});
  CHECK(decode_code(mismatch) == StatusCode::shape_mismatch);
  CHECK(decode_error(mismatch).find("describe different models") != std::string::npos);
  ModelParts wider;
  wider.layers[0].units = 4;  // the table's model has 28 parameters, the tensor 23
  CHECK(decode_code(hostile_task({.spec = "", .model = wider})) == StatusCode::shape_mismatch);
}

TEST_CASE("errors: hostile 1.5 model tables -> unknown_enum, out_of_range, too_large, invalid_argument") {
  ModelParts kind;
  kind.layers[1].kind = 10;
  CHECK(decode_code(hostile_task({.model = kind})) == StatusCode::unknown_enum);
  CHECK(decode_error(hostile_task({.model = kind})).find("task.model.layers[1].kind") != std::string::npos);
  ModelParts padding;
  padding.layers[0].padding = 2;
  CHECK(decode_code(hostile_task({.model = padding})) == StatusCode::unknown_enum);
  ModelParts loss;
  loss.loss = 3;
  CHECK(decode_code(hostile_task({.model = loss})) == StatusCode::unknown_enum);
  ModelParts no_input;
  no_input.input_c = 0;
  CHECK(decode_code(hostile_task({.model = no_input})) == StatusCode::out_of_range);
  ModelParts deep;
  deep.layers.assign(ModelSpec::kMaxLayers + 1, LayerParts{.kind = 1});
  deep.layers.push_back({.kind = 0, .units = 2});
  CHECK(decode_code(hostile_task({.model = deep})) == StatusCode::too_large);
  ModelParts big_kernel;  // a 5x5 conv over a 1x1x4 input
  big_kernel.layers = {{.kind = 3, .units = 2, .kernel = 5, .padding = 1}, {.kind = 8}, {.kind = 0, .units = 2}};
  CHECK(decode_code(hostile_task({.model = big_kernel})) == StatusCode::invalid_argument);
  CHECK(decode_error(hostile_task({.model = big_kernel})).find("layer 0 (conv2d 5x5") != std::string::npos);
}

TEST_CASE("errors: 1.5 trainable layers that are not ascending layers with parameters -> out_of_range") {
  CHECK(decode_code(hostile_task({.trainable = {2}})) == StatusCode::ok);
  CHECK(decode_code(hostile_task({.trainable = {0, 2}})) == StatusCode::ok);
  CHECK(decode_code(hostile_task({.trainable = {1}})) == StatusCode::out_of_range);      // relu
  CHECK(decode_code(hostile_task({.trainable = {3}})) == StatusCode::out_of_range);      // past the end
  CHECK(decode_code(hostile_task({.trainable = {2, 0}})) == StatusCode::out_of_range);   // descending
  CHECK(decode_code(hostile_task({.trainable = {2, 2}})) == StatusCode::out_of_range);   // repeated
  CHECK(decode_error(hostile_task({.trainable = {1}})).find("(relu) has no parameters") != std::string::npos);
}

namespace {

std::vector<uint8_t> hostile_statistics(uint64_t count, std::vector<double> mean,
                                        std::vector<double> m2) {
  FlatBufferBuilder b;
  const auto means = b.CreateVector(mean);
  const auto m2s = b.CreateVector(m2);
  return finish(b, fb::Message::DataStatistics,
                fb::CreateDataStatistics(b, count, means, m2s).Union());
}

}  // namespace

TEST_CASE("errors: 1.6 data statistics no data can have are refused at decode") {
  CHECK(decode_code(hostile_statistics(10, {1.0, 2.0}, {0.0, 3.0})) == StatusCode::ok);
  CHECK(decode_code(hostile_statistics(10, {1.0, NAN}, {0.0, 3.0})) == StatusCode::non_finite);
  CHECK(decode_code(hostile_statistics(10, {1.0, 2.0}, {INFINITY, 3.0})) == StatusCode::non_finite);
  CHECK(decode_code(hostile_statistics(10, {1.0, 2.0}, {0.0, -3.0})) == StatusCode::out_of_range);
  CHECK(decode_code(hostile_statistics(0, {1.0, 2.0}, {0.0, 3.0})) == StatusCode::out_of_range);
  CHECK(decode_code(hostile_statistics(10, {1.0, 2.0}, {0.0})) == StatusCode::shape_mismatch);
  CHECK(decode_code(hostile_statistics(10, {}, {})) == StatusCode::shape_mismatch);
  CHECK(decode_error(hostile_statistics(10, {1.0, NAN}, {0.0, 3.0})).find("feature 1") !=
        std::string::npos);
  DecodeLimits small;
  small.max_list_entries = 1;
  CHECK(decode_code(hostile_statistics(10, {1.0, 2.0}, {0.0, 3.0}), small) ==
        StatusCode::too_large);
}

TEST_CASE(
    "errors: a 1.6 Task standardisation that does not fit the model or divides by zero is "
    "refused") {
  const auto samples = golden::make_samples();  // owns the parameters the Task views
  const auto task_with = [&samples](std::vector<double> mean, std::vector<double> deviation) {
    Task task = std::get<Task>(samples->messages[2].second);
    task.standardization = Standardization{std::move(mean), std::move(deviation)};
    return encode_message(task).status().code();
  };
  CHECK(task_with({1.0}, {2.0}) == StatusCode::ok);
  CHECK(task_with({1, 2, 3, 4}, {1, 1, 1, 1}) == StatusCode::ok);
  CHECK(task_with({1, 2, 3}, {1, 1, 1}) == StatusCode::shape_mismatch);  // mlp:4-3-2 has 4 inputs
  CHECK(task_with({1, 2, 3, 4}, {1, 1, 0, 1}) == StatusCode::out_of_range);
  CHECK(task_with({1, NAN, 3, 4}, {1, 1, 1, 1}) == StatusCode::non_finite);
}

TEST_CASE("errors: a Welcome with a nonsense eligibility rule and a heartbeat with unknown reasons are refused") {
  // What a device does with a Welcome whose rule no server should send: refuse it, naming the field.
  const auto welcome = [](float max_c, float band_c) {
    FlatBufferBuilder b;
    const auto id = b.CreateString("dev");
    const auto rule = fb::CreateEligibilityRule(b, max_c, band_c);
    return finish(b, fb::Message::Welcome, fb::CreateWelcome(b, id, 1, 1000, 3000, 1 << 20, 0, false, rule).Union());
  };
  CHECK(decode_code(welcome(75, 5)) == StatusCode::ok);
  CHECK(decode_code(welcome(75, 80)) == StatusCode::out_of_range);
  CHECK(decode_error(welcome(75, 80)).find("welcome.eligibility.temperature_hysteresis_c") != std::string::npos);
  CHECK(decode_code(welcome(-3, 0)) == StatusCode::out_of_range);
  CHECK(decode_code(welcome(std::numeric_limits<float>::infinity(), 0)) == StatusCode::non_finite);
  // The sender's own check refuses the same rule before it is ever sent.
  Welcome bad;
  bad.device_id = "dev";
  bad.heartbeat_interval_ms = 1000;
  bad.peer_timeout_ms = 3000;
  bad.eligibility.min_battery_percent = 101;
  CHECK(encode_message(bad).status().code() == StatusCode::out_of_range);

  FlatBufferBuilder b;
  CHECK(decode_code(finish(b, fb::Message::Heartbeat, fb::CreateHeartbeat(b, 1, 2, 0, 16).Union())) ==
        StatusCode::unknown_enum);
  FlatBufferBuilder b2;
  CHECK(decode_code(finish(b2, fb::Message::Heartbeat, fb::CreateHeartbeat(b2, 1, 2, 0, 15).Union())) ==
        StatusCode::ok);
}
