// The user's own data files through DataSource: CSV, npy pairs, npz archives and IDX by path;
// their checks against the model, and partitions of a file.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "data_file_writers.hpp"
#include "edgefl/data/data_source.hpp"
#include "temp_dir.hpp"

using edgefl::Dataset;
using edgefl::DataSource;
using edgefl::ModelSpec;
using edgefl::ShardSpec;
using edgefl::StatusCode;
namespace t = edgefl::testing;

namespace {

const std::string kFixtures = EDGEFL_DATA_FIXTURES;

ModelSpec spec_of(const char* text) {
  auto spec = ModelSpec::parse(text);
  REQUIRE(spec.ok());
  return *spec;
}

// The whole file as one partition.
edgefl::Result<Dataset> load(const std::string& name) {
  auto source = DataSource::parse(name);
  if (!source) return source.status();
  ShardSpec whole;
  whole.count = 1;
  auto shard = source->load_shard(whole);
  if (!shard) return shard.status();
  return std::move(shard->data);
}

edgefl::Status load_error(const std::string& name) {
  auto data = load(name);
  REQUIRE_FALSE(data.ok());
  return data.status();
}

bool mentions(const edgefl::Status& status, const std::string& text) {
  CAPTURE(status.to_string());
  return status.message().find(text) != std::string::npos;
}

}  // namespace

TEST_CASE("file data: npz archives (stored and deflated) become byte images scaled to [0, 1]") {
  for (const std::string& name :
       {"npz:" + kFixtures + "/images_stored.npz",
        "npz:" + kFixtures + "/images_deflated.npz:x=images:y=labels",
        "npy:" + kFixtures + "/images_x.npy:" + kFixtures + "/images_y.npy"}) {
    CAPTURE(name);
    auto data = load(name);
    REQUIRE(data.ok());
    REQUIRE(data->size() == 6);
    CHECK(data->dim() == 12);
    CHECK(data->num_classes() == 3);
    CHECK(data->memory_bytes() < 6 * 12 * sizeof(float));  // bytes, not floats
    for (std::size_t i = 0; i < 6; ++i) {
      CHECK(data->target(i) == float(i % 3));
      CHECK(data->feature(i, 5) == doctest::Approx(((i * 7 + 1 * 3 + 2) % 256) / 255.0));
    }
  }
}

TEST_CASE("file data: float rows with regression targets, float64 converted") {
  for (const char* features : {"/rows_x_f4.npy", "/rows_x_f8_v2.npy"}) {
    CAPTURE(features);
    auto data = load("npy:" + kFixtures + features + ":" + kFixtures + "/rows_y.npy:regression");
    REQUIRE(data.ok());
    REQUIRE(data->size() == 5);
    CHECK(data->dim() == 4);
    CHECK(data->num_classes() == 0);
    CHECK(data->feature(3, 2) == 3 + 2 / 8.0f);
    CHECK(data->target(3) == 1.5f);
  }
  // The same targets as classes: 0.5 is not one.
  auto status = load_error("npy:" + kFixtures + "/rows_x_f4.npy:" + kFixtures + "/rows_y.npy");
  CHECK(status.code() == StatusCode::out_of_range);
  CHECK(mentions(status, "rows_y.npy: label 0.5"));
  CHECK(mentions(status, ":regression"));
}

TEST_CASE("file data: CSV with a detected header, a named label and chosen features") {
  t::TempDir dir;
  t::write_file(dir.file("iris.csv"),
                "sepal_length,sepal_width,\"petal, length\",species\r\n"
                "5.1, 3.5, 1.4, 0\r\n"
                "\r\n"
                "6.2,2.9,4.3,1\r\n"
                "7.7,3.0,6.1,2\r\n");
  auto all = load("csv:" + dir.file("iris.csv"));
  REQUIRE(all.ok());
  CHECK(all->size() == 3);
  CHECK(all->dim() == 3);
  CHECK(all->num_classes() == 3);
  CHECK(all->feature(0, 1) == 3.5f);
  CHECK(all->target(2) == 2.0f);

  auto chosen =
      load("csv:" + dir.file("iris.csv") + ":label=sepal_length:features=2,sepal_width:regression");
  REQUIRE(chosen.ok());
  CHECK(chosen->dim() == 2);
  CHECK(chosen->feature(1, 0) == 4.3f);
  CHECK(chosen->feature(1, 1) == 2.9f);
  CHECK(chosen->target(1) == 6.2f);

  t::write_file(dir.file("plain.csv"), "1,2,3,1\n4,5,6,0\n");
  auto ranged = load("csv:" + dir.file("plain.csv") + ":label=3:features=0-1");
  REQUIRE(ranged.ok());
  CHECK(ranged->dim() == 2);
  CHECK(ranged->feature(1, 1) == 5.0f);
  CHECK(ranged->target(0) == 1.0f);
}

TEST_CASE("file data: CSV errors name the file, the line and the column") {
  t::TempDir dir;
  auto error_of = [&dir](const std::string& text, const std::string& options = "") {
    t::write_file(dir.file("d.csv"), text);
    return load_error("csv:" + dir.file("d.csv") + options);
  };
  edgefl::Status status = error_of("a,b,y\n1,2,0\n3,x,1\n");
  CHECK(mentions(status, "d.csv:3: column 1 ('b'): 'x' is not a number"));
  status = error_of("1,2,0\n3,nan,1\n");
  CHECK(status.code() == StatusCode::non_finite);
  CHECK(mentions(status, "d.csv:2: column 1: 'nan' is not a finite float"));
  CHECK(mentions(error_of("1,2,0\n3,1e999,1\n"), "'1e999' is not a finite float"));
  CHECK(mentions(error_of("1,2,0\n3,4\n"), "d.csv:2: 2 fields, the first line has 3"));
  CHECK(mentions(error_of("1,,0\n"), "d.csv:1: column 1: empty field"));
  CHECK(mentions(error_of("1,2,0.5\n"), "label 0.5"));
  CHECK(mentions(error_of("a,b,y\n1,2,0\n", ":label=z"),
                 "label 'z' is neither a header name nor a column number"));
  CHECK(mentions(error_of("1,2,0\n", ":features=0-7"), "feature column 7 is beyond the 3 columns"));
  CHECK(mentions(error_of("1,2,0\n", ":features=0-2"), "is also a feature"));
  CHECK(mentions(error_of("a,b,y\n"), "no data rows"));
  CHECK(mentions(error_of("\"1,2,0\n"), "unterminated quote"));
  CHECK(mentions(error_of("id,2,0\n", ":header=no"), "(is line 1 a header? add :header=yes)"));
  CHECK(load_error("csv:" + dir.file("missing.csv")).code() == StatusCode::not_found);
}

TEST_CASE("file data: IDX files by path, classes from the largest label") {
  t::TempDir dir;
  t::Bytes pixels(4 * 2 * 3);
  for (std::size_t k = 0; k < pixels.size(); ++k) pixels[k] = static_cast<uint8_t>(k * 10);
  t::write_file(dir.file("images"), t::idx({4, 2, 3}, pixels));
  t::write_file(dir.file("labels"), t::idx({4}, {0, 4, 2, 4}));
  auto data = load("idx:" + dir.file("images") + ":" + dir.file("labels"));
  REQUIRE(data.ok());
  CHECK(data->dim() == 6);
  CHECK(data->num_classes() == 5);
  CHECK(data->feature(2, 1) == doctest::Approx(130 / 255.0));
  auto declared = load("idx:" + dir.file("images") + ":" + dir.file("labels") + ":classes=10");
  REQUIRE(declared.ok());
  CHECK(declared->num_classes() == 10);
  CHECK(load_error("idx:" + dir.file("images") + ":" + dir.file("labels") + ":classes=3").code() ==
        StatusCode::corrupt);
}

TEST_CASE("file data: names are parsed strictly, before any file is read") {
  CHECK(DataSource::parse("csv:/no/such.csv:label=2").ok());  // files are read by the loads
  for (const char* bad :
       {"csv:", "npy:x.npy", "npz:a.npz:x=", "csv:a.csv:colour=red", "npz:a.npz:label=1", "idx:a",
        "csv:a.csv:classes=0", "csv:a.csv:regression:classes=3", "npy:x.npy:label=y"}) {
    CAPTURE(bad);
    auto source = DataSource::parse(bad);
    REQUIRE_FALSE(source.ok());
    CHECK(source.status().code() == StatusCode::invalid_argument);
    CHECK(mentions(source.status(), bad));
  }
}

TEST_CASE("file data: a file that does not fit the model is refused naming both") {
  auto source = DataSource::parse("npz:" + kFixtures + "/images_stored.npz");
  REQUIRE(source.ok());
  CHECK(source->check_spec(spec_of("mlp:784-10")).ok());  // unknown until read
  auto test = source->load_test(spec_of("mlp:12-8-3"));
  REQUIRE(test.ok());
  CHECK(test->size() == 6);
  CHECK(source->load_test(spec_of("mlp:12-4"), 4)->size() == 4);  // fewer outputs unused is fine

  auto wrong_inputs = source->load_test(spec_of("mlp:784-10"));
  REQUIRE_FALSE(wrong_inputs.ok());
  CHECK(wrong_inputs.status().code() == StatusCode::shape_mismatch);
  CHECK(mentions(wrong_inputs.status(), "(12 inputs, 3 classes) does not fit model 'mlp:784-10"));
  CHECK(mentions(wrong_inputs.status(), "images_stored.npz"));
  auto too_few_outputs = source->load_shard(spec_of("mlp:12-2"), ShardSpec{.count = 1});
  REQUIRE_FALSE(too_few_outputs.ok());
  CHECK(mentions(too_few_outputs.status(), "the model has 2 outputs"));

  auto rows = DataSource::parse("npy:" + kFixtures + "/rows_x_f4.npy:" + kFixtures +
                                "/rows_y.npy:regression");
  REQUIRE(rows.ok());
  CHECK(rows->load_test(spec_of("linear:4-1"))->size() == 5);
  CHECK(mentions(rows->load_test(spec_of("mlp:4-3")).status(), "a classifier needs class labels"));
}

TEST_CASE("file data: one partition is the whole file in order, more split it without overlap") {
  auto source = DataSource::parse("npz:" + kFixtures + "/images_deflated.npz:x=images:y=labels");
  REQUIRE(source.ok());
  auto whole = source->shard_rows(ShardSpec{.count = 1});
  REQUIRE(whole.ok());
  CHECK(*whole == std::vector<uint32_t>{0, 1, 2, 3, 4, 5});
  auto first = source->load_shard(ShardSpec{.count = 1, .max_samples = 4});
  REQUIRE(first.ok());
  CHECK(first->data.size() == 4);
  CHECK(first->label_histogram == std::vector<std::size_t>{2, 1, 1});

  std::vector<uint32_t> seen;
  for (uint32_t index : {0u, 1u}) {
    ShardSpec half{.scheme = "iid", .count = 2, .index = index};
    auto rows = source->shard_rows(half);
    REQUIRE(rows.ok());
    auto shard = source->load_shard(half);
    REQUIRE(shard.ok());
    CHECK(shard->data.size() == rows->size());
    seen.insert(seen.end(), rows->begin(), rows->end());
  }
  std::sort(seen.begin(), seen.end());
  CHECK(seen == *whole);

  // Regression targets have no labels to skew: a Dirichlet split falls back to IID.
  auto rows = DataSource::parse("npy:" + kFixtures + "/rows_x_f4.npy:" + kFixtures +
                                "/rows_y.npy:regression");
  REQUIRE(rows.ok());
  CHECK(rows->load_shard(ShardSpec{.scheme = "dirichlet", .count = 2, .index = 1}).ok());
}

TEST_CASE("file data: damaged arrays name the file and the problem") {
  t::TempDir dir;
  const t::Bytes y = t::npy("|u1", "(2,)", {0, 1});
  t::write_file(dir.file("y.npy"), y);
  auto error_of = [&dir](const t::Bytes& x) {
    t::write_file(dir.file("x.npy"), x);
    return load_error("npy:" + dir.file("x.npy") + ":" + dir.file("y.npy"));
  };
  CHECK(mentions(error_of(t::npy("<f4", "(3, 1)", t::raw(std::vector<float>{1, 2, 3}))),
                 "x.npy holds 3 samples (shape 3x1) but"));
  CHECK(mentions(error_of(t::npy("<f4", "(2, 1)", t::raw(std::vector<float>{1, NAN}))),
                 "x.npy: value 1 (sample 1) is not a finite float"));
  CHECK(mentions(error_of(t::npy("<f8", "(2, 1)", t::raw(std::vector<double>{1, 1e300}))),
                 "not a finite float"));
  CHECK(
      mentions(error_of(t::npy("<i8", "(2, 1)", t::raw(std::vector<int64_t>{1, 2}))), "dtype <i8"));
  CHECK(mentions(error_of(t::npy("<f4", "(2, 0)", {})), "hold no values"));
  const t::Bytes x = t::npy("<f4", "(2, 1)", t::raw(std::vector<float>{1, 2}));
  CHECK(error_of(t::Bytes(x.begin(), x.end() - 2)).code() == StatusCode::truncated);

  t::write_file(dir.file("y.npy"), t::npy("<f4", "(2, 2)", t::Bytes(16)));
  CHECK(mentions(error_of(x), "y.npy: labels of shape 2x2"));

  t::write_file(dir.file("a.npz"), t::zip({{"x.npy", x, 8}, {"labels.npy", y, 0}}));
  const edgefl::Status missing = load_error("npz:" + dir.file("a.npz"));
  CHECK(missing.code() == StatusCode::not_found);
  CHECK(mentions(missing, "no array 'y' (it holds: x.npy, labels.npy)"));
  CHECK(load("npz:" + dir.file("a.npz") + ":y=labels").ok());
}
