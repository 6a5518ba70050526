// The npy and zip parsers: numpy's own files read back, and each kind of damage refused with a
// status naming the file and the problem.
#include <doctest/doctest.h>

#include <string>

#include "data_file_writers.hpp"
#include "edgefl/data/npy_reader.hpp"
#include "edgefl/data/zip_reader.hpp"
#include "temp_dir.hpp"

using edgefl::NpyArray;
using edgefl::NpyType;
using edgefl::StatusCode;
using edgefl::ZipArchive;
namespace t = edgefl::testing;

namespace {

const std::string kFixtures = EDGEFL_DATA_FIXTURES;

edgefl::Status npy_error(const t::Bytes& bytes) {
  auto array = edgefl::parse_npy(bytes, "bad.npy");
  REQUIRE_FALSE(array.ok());
  CHECK(array.status().message().find("bad.npy") != std::string::npos);
  return array.status();
}

}  // namespace

TEST_CASE("npy: numpy's version 1.0 and 2.0 files read back with their shape and values") {
  auto images = edgefl::read_npy(kFixtures + "/images_x.npy");
  REQUIRE(images.ok());
  CHECK(images->type == NpyType::u1);
  CHECK(images->shape_text() == "6x4x3x1");
  REQUIRE(images->element_count() == 72);
  for (std::size_t i = 0; i < 6; ++i) {
    for (std::size_t r = 0; r < 4; ++r) {
      for (std::size_t c = 0; c < 3; ++c)
        CHECK(images->value(i * 12 + r * 3 + c) == double((i * 7 + r * 3 + c) % 256));
    }
  }
  auto rows = edgefl::read_npy(kFixtures + "/rows_x_f8_v2.npy");
  REQUIRE(rows.ok());
  CHECK(rows->type == NpyType::f8);
  CHECK(rows->shape_text() == "5x4");
  CHECK(rows->value(2 * 4 + 3) == 2 + 3 / 8.0);
  auto labels = edgefl::read_npy(kFixtures + "/images_y.npy");
  REQUIRE(labels.ok());
  CHECK(labels->type == NpyType::i4);
  CHECK(labels->value(5) == 2.0);
}

TEST_CASE("npy: the header a test writes parses like numpy's, every dtype converts") {
  auto array =
      edgefl::parse_npy(t::npy("<i2", "(3,)", t::raw(std::vector<int16_t>{-5, 0, 300})), "a.npy");
  REQUIRE(array.ok());
  CHECK(array->value(0) == -5.0);
  CHECK(array->value(2) == 300.0);
  auto scalar = edgefl::parse_npy(t::npy("<f4", "()", t::raw(std::vector<float>{1.5f})), "s.npy");
  REQUIRE(scalar.ok());
  CHECK(scalar->shape.empty());
  CHECK(scalar->value(0) == 1.5);
  auto v2 = edgefl::parse_npy(t::npy("|u1", "(2, 1)", {7, 9}, 2), "v2.npy");
  REQUIRE(v2.ok());
  CHECK(v2->shape_text() == "2x1");
}

TEST_CASE("npy: damaged and unsupported files are refused naming the problem") {
  const t::Bytes good = t::npy("<f4", "(2, 2)", t::raw(std::vector<float>{1, 2, 3, 4}));
  CHECK(npy_error(t::Bytes(good.begin(), good.end() - 1)).code() == StatusCode::truncated);
  t::Bytes longer = good;
  longer.push_back(0);
  CHECK(npy_error(longer).message().find("after the array") != std::string::npos);
  t::Bytes magic = good;
  magic[1] = 'X';
  CHECK(npy_error(magic).message().find("bad magic") != std::string::npos);
  t::Bytes version = good;
  version[6] = 4;
  CHECK(npy_error(version).code() == StatusCode::version_mismatch);
  CHECK(npy_error(t::Bytes(good.begin(), good.begin() + 30)).code() == StatusCode::truncated);
  CHECK(npy_error(t::npy(">f4", "(1,)", {0, 0, 0, 0})).message().find("'>f4'") !=
        std::string::npos);
  CHECK(npy_error(t::npy("<c8", "(1,)", t::Bytes(8))).message().find("dtype") != std::string::npos);
  CHECK(npy_error(t::npy("<f4", "(1,)", t::Bytes(4), 1, true)).message().find("Fortran") !=
        std::string::npos);
  CHECK(npy_error(t::npy("<f4", "(1, x)", t::Bytes(4))).code() == StatusCode::corrupt);
  CHECK(npy_error(t::npy("<f4", "(4294967296, 4294967296, 4294967296)", t::Bytes(4))).code() ==
        StatusCode::too_large);
  // A header claiming more bytes than the file has.
  t::Bytes claim = good;
  claim[8] = 0xFF, claim[9] = 0xFF;
  CHECK(npy_error(claim).code() == StatusCode::truncated);
  auto missing = edgefl::read_npy("/nonexistent/x.npy");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == StatusCode::not_found);
}

TEST_CASE("zip: numpy.savez and savez_compressed archives list and extract their members") {
  for (const char* name : {"/images_stored.npz", "/images_deflated.npz"}) {
    CAPTURE(name);
    auto archive = ZipArchive::open(kFixtures + name);
    REQUIRE(archive.ok());
    REQUIRE(archive->members().size() == 2);
    const edgefl::ZipMember& first = archive->members()[0];
    auto bytes = archive->extract(first, 1 << 20);
    REQUIRE(bytes.ok());
    auto array = edgefl::parse_npy(std::move(*bytes), first.name);
    REQUIRE(array.ok());
    CHECK(array->shape_text() == "6x4x3x1");
    CHECK(array->value(13) == double((1 * 7 + 0 * 3 + 1) % 256));
  }
}

TEST_CASE("zip: bombs, unknown methods, bad CRCs and cut archives are refused") {
  const t::Bytes payload(100000, 0);  // deflates to a few hundred bytes
  auto open = [](const t::Bytes& bytes) { return ZipArchive::parse(bytes, "a.npz"); };

  auto deflated = open(t::zip({{"x.npy", payload, 8}}));
  REQUIRE(deflated.ok());
  auto whole = deflated->extract(deflated->members()[0], payload.size());
  REQUIRE(whole.ok());
  CHECK(*whole == payload);
  // Over the caller's cap: refused before inflating.
  auto capped = deflated->extract(deflated->members()[0], payload.size() - 1);
  REQUIRE_FALSE(capped.ok());
  CHECK(capped.status().code() == StatusCode::too_large);
  CHECK(capped.status().message().find("a.npz:x.npy") != std::string::npos);

  // A member declaring fewer bytes than it inflates to stops at the declared size.
  auto lying = open(t::zip({{"x.npy", payload, 8, 1000}}));
  REQUIRE(lying.ok());
  auto stopped = lying->extract(lying->members()[0], 1 << 30);
  REQUIRE_FALSE(stopped.ok());
  CHECK(stopped.status().message().find("more than its declared") != std::string::npos);
  // ... and one declaring more finds the stream ending early.
  auto short_stream = open(t::zip({{"x.npy", payload, 8, 200000}}));
  REQUIRE(short_stream.ok());
  CHECK_FALSE(short_stream->extract(short_stream->members()[0], 1 << 30).ok());

  t::Bytes bzip2 = t::zip({{"x.npy", payload, 0}});
  bzip2[8] = 12;                         // local header method
  bzip2[payload.size() + 35 + 10] = 12;  // central directory method
  auto unknown = open(bzip2);
  REQUIRE(unknown.ok());
  auto refused = unknown->extract(unknown->members()[0], 1 << 20);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().message().find("method 12") != std::string::npos);

  t::Bytes flipped = t::zip({{"x.npy", {1, 2, 3}, 0}});
  flipped[30 + 5 + 1] ^= 1;  // a data byte
  auto crc = open(flipped);
  REQUIRE(crc.ok());
  auto mismatch = crc->extract(crc->members()[0], 1 << 20);
  REQUIRE_FALSE(mismatch.ok());
  CHECK(mismatch.status().message().find("CRC") != std::string::npos);

  const t::Bytes good = t::zip({{"x.npy", payload, 8}});
  for (std::size_t cut : {std::size_t{0}, std::size_t{10}, good.size() / 2, good.size() - 1}) {
    CAPTURE(cut);
    CHECK_FALSE(open(t::Bytes(good.begin(), good.begin() + cut)).ok());
  }
  // The directory pointing past its own end.
  t::Bytes outside = good;
  outside[outside.size() - 6] = 0xFF;
  CHECK_FALSE(open(outside).ok());
}
