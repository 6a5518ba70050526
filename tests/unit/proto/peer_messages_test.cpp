// 1.6 dpsgd messages: what senders and receivers refuse (docs/protocol.md §14).
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "edgefl/proto/proto.hpp"
#include "edgefl/schema/wire_generated.h"
#include "golden_samples.hpp"

using namespace edgefl;

namespace {

template <typename T>
T sample(const golden::Samples& samples) {
  for (const auto& [name, message] : samples.messages) {
    if (const T* found = std::get_if<T>(&message)) return *found;
  }
  FAIL("no sample of this message type");
  return T{};
}

StatusCode encode_code(const Message& message) {
  auto bytes = encode_message(message);
  return bytes.ok() ? StatusCode::ok : bytes.status().code();
}

StatusCode decode_code(const std::vector<uint8_t>& bytes) {
  AlignedBytes scratch;
  auto decoded = decode_message(bytes, scratch);
  return decoded.ok() ? StatusCode::ok : decoded.status().code();
}

}  // namespace

TEST_CASE("peer assignment: weights, ids, keys and timing are checked") {
  auto samples = golden::make_samples();
  const PeerAssignment good = sample<PeerAssignment>(*samples);
  CHECK(encode_code(good) == StatusCode::ok);
  auto with = [&](auto change) {
    PeerAssignment a = good;
    change(a);
    return encode_code(a);
  };
  CHECK(with([](PeerAssignment& a) { a.epoch = 0; }) == StatusCode::out_of_range);
  CHECK(with([](PeerAssignment& a) { a.topology = 3; }) == StatusCode::unknown_enum);
  CHECK(with([](PeerAssignment& a) { a.self_weight = 0.5; }) ==
        StatusCode::out_of_range);  // sum 7/6
  CHECK(with([](PeerAssignment& a) { a.neighbours[0].weight = std::nan(""); }) ==
        StatusCode::non_finite);
  CHECK(with([](PeerAssignment& a) { a.neighbours[0].weight = -1.0 / 3; }) ==
        StatusCode::out_of_range);
  CHECK(with([](PeerAssignment& a) { a.neighbours[1].device_id = a.neighbours[0].device_id; }) ==
        StatusCode::duplicate);
  CHECK(with([](PeerAssignment& a) { a.neighbours[1].device_id.clear(); }) ==
        StatusCode::out_of_range);
  CHECK(with([](PeerAssignment& a) { a.neighbours[1].endpoint.clear(); }) ==
        StatusCode::out_of_range);
  CHECK(with([](PeerAssignment& a) { a.neighbours[0].public_key = "short"; }) ==
        StatusCode::out_of_range);
  CHECK(with([](PeerAssignment& a) { a.step_deadline_ms = 0; }) == StatusCode::out_of_range);
  CHECK(with([](PeerAssignment& a) { a.report_interval = 0; }) == StatusCode::out_of_range);
  CHECK(with([](PeerAssignment& a) { a.start.config.lr = -1.0f; }) == StatusCode::out_of_range);
  // A node alone (a ring of one) keeps everything for itself.
  CHECK(with([](PeerAssignment& a) {
          a.neighbours.clear();
          a.self_weight = 1.0;
        }) == StatusCode::ok);
}

TEST_CASE("peer model: a dense, non-empty model from a named sender") {
  auto samples = golden::make_samples();
  const PeerModel good = sample<PeerModel>(*samples);
  CHECK(encode_code(good) == StatusCode::ok);
  PeerModel anonymous = good;
  anonymous.sender.clear();
  CHECK(encode_code(anonymous) == StatusCode::out_of_range);

  // A receiver refuses a top-k (sparse delta) model even when the sender skipped its checks.
  flatbuffers::FlatBufferBuilder b;
  const std::vector<float> values = {1.0f, 2.0f};
  const std::vector<uint32_t> indices = {0, 5};
  const auto index_list = b.CreateVector(indices);
  const auto value_list = b.CreateVector(values);
  const auto tensor = fb::CreateEncodedTensor(b, fb::Codec::topk, golden::kParameters, 0, 0, 0, 0,
                                              0, index_list, value_list);
  const auto body = fb::CreatePeerModel(b, b.CreateString("device-B"), 1, 3, false, tensor, 0);
  fb::FinishSizePrefixedEnvelopeBuffer(
      b, fb::CreateEnvelope(b, kProtocolVersion, fb::Message::PeerModel, body.Union()));
  const std::vector<uint8_t> sparse(b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize());
  CHECK(decode_code(sparse) == StatusCode::out_of_range);
}

TEST_CASE("peer report: one finite, non-negative distance per neighbour") {
  auto samples = golden::make_samples();
  const PeerReport good = sample<PeerReport>(*samples);
  CHECK(encode_code(good) == StatusCode::ok);
  PeerReport r = good;
  r.squared_distances.pop_back();
  CHECK(encode_code(r) == StatusCode::shape_mismatch);
  r = good;
  r.squared_distances[0] = std::numeric_limits<double>::infinity();
  CHECK(encode_code(r) == StatusCode::non_finite);
  r = good;
  r.squared_distances[0] = -1.0;
  CHECK(encode_code(r) == StatusCode::out_of_range);
  r = good;
  r.train_loss = std::nanf("");
  CHECK(encode_code(r) == StatusCode::non_finite);
  r = good;
  r.snapshot = {};
  CHECK(encode_code(r) == StatusCode::ok);  // no snapshot: the default
}

TEST_CASE("peer messages carry their parameters as the payload") {
  auto samples = golden::make_samples();
  for (const char* name : {"peer_assignment", "peer_model", "peer_report"}) {
    CAPTURE(name);
    for (const auto& [sample_name, message] : samples->messages) {
      if (sample_name != name) continue;
      auto bytes = encode_message(message).value();
      AlignedBytes scratch;
      auto decoded = decode_message(bytes, scratch);
      REQUIRE(decoded.ok());
      FloatBuffer out(golden::kParameters);
      REQUIRE(decoded->payload_into(out.span()).ok());
      // f16 (the peer model) rounds; the samples are multiples of 1/8, exact in f16.
      for (std::size_t i = 0; i < golden::kParameters; ++i) CHECK(out[i] == samples->params[i]);
    }
  }
}
