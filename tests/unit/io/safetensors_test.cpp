// safetensors: round trips, a file Python wrote, and every kind of bad header refused.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <string>

#include "edgefl/io/safetensors.hpp"
#include "temp_dir.hpp"

using edgefl::SafetensorsFile;
using edgefl::ShapedTensor;
using edgefl::StatusCode;

namespace {

const std::string kFixtures = EDGEFL_IO_FIXTURES;

// A file of the given header text (padded as the format allows) and `data_bytes` zero bytes.
std::vector<uint8_t> with_header(std::string header, std::size_t data_bytes) {
  std::vector<uint8_t> out(8);
  for (int k = 0; k < 8; ++k) out[k] = static_cast<uint8_t>(uint64_t{header.size()} >> (8 * k));
  out.insert(out.end(), header.begin(), header.end());
  out.resize(out.size() + data_bytes, 0);
  return out;
}

edgefl::Status error_of(const std::vector<uint8_t>& bytes) {
  auto file = edgefl::decode_safetensors(bytes, "bad.safetensors");
  REQUIRE_FALSE(file.ok());
  CHECK(file.status().message().find("bad.safetensors") != std::string::npos);
  return file.status();
}

bool mentions(const edgefl::Status& status, const std::string& text) {
  CAPTURE(status.to_string());
  return status.message().find(text) != std::string::npos;
}

}  // namespace

TEST_CASE("safetensors: a written file reads back with names, shapes, values and metadata") {
  SafetensorsFile file;
  file.tensors.push_back({"layers.0.weight", {2, 3}, {1.5f, -2, 0, 1e-30f, 3.25f, -0.0f}});
  file.tensors.push_back({"layers.0.bias", {2}, {0.5f, -0.5f}});
  file.tensors.push_back({"scalar \"quoted\" \xC3\xA9", {}, {7}});
  file.metadata.emplace_back("format", "pt");
  edgefl::testing::TempDir dir;
  REQUIRE(edgefl::write_safetensors(dir.file("m.safetensors"), file).ok());
  auto back = edgefl::read_safetensors(dir.file("m.safetensors"));
  REQUIRE(back.ok());
  REQUIRE(back->tensors.size() == 3);
  for (std::size_t t = 0; t < 3; ++t) {
    CHECK(back->tensors[t].name == file.tensors[t].name);
    CHECK(back->tensors[t].shape == file.tensors[t].shape);
    CHECK(std::memcmp(back->tensors[t].values.data(), file.tensors[t].values.data(),
                      file.tensors[t].values.size() * sizeof(float)) == 0);
  }
  CHECK(back->metadata == file.metadata);

  auto bytes = edgefl::encode_safetensors(file);
  REQUIRE(bytes.ok());
  uint64_t length = 0;
  std::memcpy(&length, bytes->data(), 8);
  CHECK((8 + length) % 8 == 0);  // tensors start 8-byte aligned
  CHECK(bytes->size() == 8 + length + 4 * (6 + 2 + 1));
}

TEST_CASE("safetensors: a file written by Python reads back, F16 and BF16 converted") {
  auto file = edgefl::read_safetensors(kFixtures + "/python_written.safetensors");
  REQUIRE(file.ok());
  REQUIRE(file->tensors.size() == 4);
  CHECK(file->metadata.size() == 2);
  auto find = [&file](const std::string& name) -> const ShapedTensor& {
    for (const ShapedTensor& t : file->tensors) {
      if (t.name == name) return t;
    }
    FAIL("no tensor " << name);
    return file->tensors.front();
  };
  const ShapedTensor& weight = find("layers.0.weight");
  CHECK(weight.shape == std::vector<uint64_t>{3, 2});
  for (std::size_t i = 0; i < 6; ++i) CHECK(weight.values[i] == float(i) / 4 - 1);
  const ShapedTensor& bias = find("layers.0.bias");
  for (std::size_t i = 0; i < 3; ++i) CHECK(bias.values[i] == float(i) / 2 + 0.25f);
  const ShapedTensor& bf16 = find("layers.1.weight");
  CHECK(bf16.shape == std::vector<uint64_t>{1, 3});
  for (std::size_t i = 0; i < 3; ++i) CHECK(bf16.values[i] == -float(i + 1) * 2);
  CHECK(find("empty").values.empty());
}

TEST_CASE("safetensors: bad headers and spans are refused naming the problem") {
  const std::string a = R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})";
  CHECK(edgefl::decode_safetensors(with_header("{" + a + "}   ", 8), "ok").ok());

  CHECK(error_of({1, 2, 3}).code() == StatusCode::truncated);
  std::vector<uint8_t> huge = with_header("{}", 0);
  huge[7] = 1;  // a length of 2^56
  CHECK(mentions(error_of(huge), "is not in 2.."));
  std::vector<uint8_t> past = with_header("{" + a + "}", 8);
  past[0] = 200;
  CHECK(error_of(past).code() == StatusCode::truncated);

  CHECK(mentions(error_of(with_header("{" + a + ",}", 8)), "expected a quoted key"));
  CHECK(mentions(error_of(with_header("{" + a + "," + a + "}", 8)), "no duplicate key 'a'"));
  CHECK(mentions(error_of(with_header("[1]", 0)), "not a JSON object"));
  CHECK(mentions(error_of(with_header("{" + a + "} x", 8)), "expected end of document"));
  CHECK(mentions(
      error_of(with_header(R"({"a":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}})", 8)),
      "dtype F64"));
  CHECK(mentions(
      error_of(with_header(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8)),
      "need 3 x 4 bytes, data_offsets span 8"));
  CHECK(mentions(
      error_of(with_header(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8)),
      "not a whole number"));
  CHECK(mentions(
      error_of(with_header(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", 8)),
      "begin <= end"));
  CHECK(mentions(
      error_of(with_header(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":1}})", 8)),
      "exactly dtype, shape and data_offsets"));
  CHECK(mentions(error_of(with_header(R"({"__metadata__":{"n":1},)" + a + "}", 8)),
                 "'n' is not a string"));
  CHECK(mentions(
      error_of(with_header(
          R"({"a":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,8]}})",
          8)),
      "data_offsets span 8"));

  const std::string b_overlap = R"("b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]})";
  CHECK(mentions(error_of(with_header("{" + a + "," + b_overlap + "}", 8)), "(overlap)"));
  const std::string b_gap = R"("b":{"dtype":"F32","shape":[1],"data_offsets":[12,16]})";
  CHECK(mentions(error_of(with_header("{" + a + "," + b_gap + "}", 16)), "(gap)"));
  CHECK(error_of(with_header("{" + a + "}", 4)).code() == StatusCode::truncated);
  CHECK(mentions(error_of(with_header("{" + a + "}", 12)), "span 8 data bytes, the file holds 12"));

  std::vector<uint8_t> nan = with_header("{" + a + "}", 8);
  const float value = NAN;
  std::memcpy(nan.data() + nan.size() - 4, &value, 4);
  CHECK(error_of(nan).code() == StatusCode::non_finite);

  CHECK(mentions(error_of(with_header("{\"a\\u00\":1}", 0)), "four hex digits"));
  CHECK(mentions(
      error_of(with_header(R"({"a":{"dtype":"F32","shape":[1e999],"data_offsets":[0,8]}})", 8)),
      "not a whole number"));
  CHECK(mentions(
      error_of(with_header(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8.5]}})", 8)),
      "not a whole number"));
  CHECK(error_of(with_header("{\"a\":01}", 0)).code() == StatusCode::corrupt);
  CHECK(
      mentions(error_of(with_header(std::string(100, '[') + std::string(100, ']'), 0)), "nested"));
}

TEST_CASE("safetensors: the writer refuses what a reader could not tell apart") {
  SafetensorsFile twice;
  twice.tensors.push_back({"w", {1}, {1}});
  twice.tensors.push_back({"w", {1}, {2}});
  CHECK(mentions(edgefl::encode_safetensors(twice).status(), "appears twice"));
  SafetensorsFile reserved;
  reserved.tensors.push_back({"__metadata__", {1}, {1}});
  CHECK(edgefl::encode_safetensors(reserved).status().code() == StatusCode::invalid_argument);
  SafetensorsFile wrong;
  wrong.tensors.push_back({"w", {2, 2}, {1, 2, 3}});
  CHECK(mentions(edgefl::encode_safetensors(wrong).status(), "holds 3 values"));
}
