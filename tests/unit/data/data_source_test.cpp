#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "edgefl/data/data_source.hpp"
#include "edgefl/data/idx_reader.hpp"
#include "edgefl/data/partition.hpp"

using edgefl::DataSource;
using edgefl::ModelSpec;
using edgefl::ShardSpec;

namespace {

ModelSpec spec_of(const char* text) {
  auto spec = ModelSpec::parse(text);
  REQUIRE(spec.ok());
  return *spec;
}

}  // namespace

TEST_CASE("data source: a Fashion-MNIST shard equals the partition of the full set") {
  auto source = DataSource::parse("fashion-mnist");
  REQUIRE(source.ok());
  ShardSpec shard;
  shard.scheme = "dirichlet";
  shard.count = 10;
  shard.index = 3;
  shard.alpha = 0.5;
  shard.seed = 7;
  auto loaded = source->load_shard(spec_of("mlp:784-32-10"), shard);
  REQUIRE(loaded.ok());

  auto full = edgefl::load_fashion_mnist();
  REQUIRE(full.ok());
  auto partition = edgefl::partition_dirichlet(full->train, 10, 0.5, 7);
  REQUIRE(partition.ok());
  const auto& rows = partition->clients[3];
  REQUIRE(loaded->data.size() == rows.size());
  CHECK(loaded->label_histogram == partition->histograms[3]);
  for (std::size_t k = 0; k < rows.size(); k += 97) {
    REQUIRE(loaded->data.target(k) == full->train.target(rows[k]));
    for (std::size_t j = 0; j < 784; j += 13) {
      REQUIRE(loaded->data.feature(k, j) == full->train.feature(rows[k], j));
    }
  }
  // Only the shard is held: about one byte per pixel of its own rows.
  CHECK(loaded->data.memory_bytes() < rows.size() * 800);
}

TEST_CASE("data source: shard_rows names the rows load_shard keeps, for any device") {
  auto source = DataSource::parse("fashion-mnist");
  REQUIRE(source.ok());
  auto full = edgefl::load_fashion_mnist();
  REQUIRE(full.ok());
  auto partition = edgefl::partition_dirichlet(full->train, 10, 0.5, 7);
  REQUIRE(partition.ok());
  ShardSpec shard;
  shard.scheme = "dirichlet";
  shard.count = 10;
  shard.alpha = 0.5;
  shard.seed = 7;
  for (uint32_t index : {0u, 6u}) {
    shard.index = index;
    auto rows = source->shard_rows(shard);
    REQUIRE(rows.ok());
    CHECK(*rows == partition->clients[index]);
  }
  shard.max_samples = 100;
  auto capped = source->shard_rows(shard);
  REQUIRE(capped.ok());
  CHECK(capped->size() == 100);
  CHECK(std::equal(capped->begin(), capped->end(), partition->clients[6].begin()));

  // Synthetic data: the rows select exactly the shard's samples from the training rows.
  auto blobs = DataSource::parse("blobs:16:4", "", 3);
  REQUIRE(blobs.ok());
  ShardSpec iid;
  iid.scheme = "iid";
  iid.count = 4;
  iid.index = 2;
  auto rows = blobs->shard_rows(iid);
  auto loaded = blobs->load_shard(iid);
  REQUIRE(rows.ok());
  REQUIRE(loaded.ok());
  REQUIRE(rows->size() == loaded->data.size());
  CHECK(std::is_sorted(rows->begin(), rows->end()));

  auto missing = DataSource::parse("fashion-mnist", "/nonexistent");
  REQUIRE(missing.ok());
  CHECK(missing->shard_rows(shard).status().code() == edgefl::StatusCode::not_found);
}

TEST_CASE("data source: synthetic data is the same on every load and fits its spec") {
  auto source = DataSource::parse("blobs:16:4", "", 3);
  REQUIRE(source.ok());
  ModelSpec spec = spec_of("mlp:16-8-4");
  ShardSpec shard;
  shard.scheme = "iid";
  shard.count = 4;
  shard.index = 1;
  shard.max_samples = 100;
  auto a = source->load_shard(spec, shard);
  auto b = source->load_shard(spec, shard);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  REQUIRE(a->data.size() == 100);
  for (std::size_t j = 0; j < 16; ++j) CHECK(a->data.feature(42, j) == b->data.feature(42, j));
  auto test = source->load_test(spec, 500);
  REQUIRE(test.ok());
  CHECK(test->size() == 500);

  auto linear = DataSource::parse("linear:50");
  REQUIRE(linear.ok());
  auto regression = linear->load_shard(spec_of("linear:50-1"), shard);
  REQUIRE(regression.ok());
  CHECK(regression->data.size() == 50);
}

TEST_CASE("data source: bad names, mismatched specs and impossible shards are named") {
  CHECK(DataSource::parse("mnist").status().code() == edgefl::StatusCode::invalid_argument);
  CHECK(DataSource::parse("blobs:16").status().code() == edgefl::StatusCode::invalid_argument);
  CHECK(DataSource::parse("blobs:x:4").status().message().find("'x'") != std::string::npos);

  auto fashion = DataSource::parse("fashion-mnist");
  REQUIRE(fashion.ok());
  auto wrong = fashion->load_test(spec_of("mlp:100-10"));
  CHECK(wrong.status().code() == edgefl::StatusCode::shape_mismatch);
  CHECK(wrong.status().message().find("mlp:100-10:relu") != std::string::npos);

  ShardSpec shard;
  shard.index = 10;
  shard.count = 10;
  CHECK(fashion->load_shard(spec_of("mlp:784-10"), shard).status().code() ==
        edgefl::StatusCode::invalid_argument);

  auto missing = DataSource::parse("fashion-mnist", "/nonexistent");
  REQUIRE(missing.ok());
  auto none = missing->load_test(spec_of("mlp:784-10"));
  CHECK(none.status().code() == edgefl::StatusCode::not_found);
  CHECK(none.status().message().find("/nonexistent") != std::string::npos);
}

TEST_CASE("data source: linreg/linclass give partition m of M nodes node m's contiguous samples") {
  auto reg = DataSource::parse("linreg:d=30:n=40:nodes=4:mean_norm=3:noise=0.1:seed=5");
  REQUIRE(reg.ok());
  ModelSpec linear = spec_of("linear:30-1");
  auto all = reg->load_test(linear);
  REQUIRE(all.ok());
  REQUIRE(all->size() == 40);
  ShardSpec shard;
  shard.count = 4;
  shard.index = 2;
  auto node = reg->load_shard(linear, shard);
  REQUIRE(node.ok());
  REQUIRE(node->data.size() == 10);
  for (std::size_t i = 0; i < 10; ++i) {
    CHECK(node->data.target(i) == all->target(20 + i));
    CHECK(node->data.feature(i, 7) == all->feature(20 + i, 7));
  }
  // The node mean (norm 3) shows in the node's sample mean; nodes differ.
  double mean_norm = 0;
  for (std::size_t j = 0; j < 30; ++j) {
    double m = 0;
    for (std::size_t i = 0; i < 10; ++i) m += node->data.feature(i, j) / 10.0;
    mean_norm += m * m;
  }
  CHECK(std::sqrt(mean_norm) > 1.5);
  shard.count = 3;
  auto wrong_count = reg->load_shard(linear, shard);
  CHECK(wrong_count.status().code() == edgefl::StatusCode::invalid_argument);
  CHECK(wrong_count.status().message().find("4 nodes") != std::string::npos);
  CHECK(reg->load_test(spec_of("linear:30-1:logistic")).status().code() == edgefl::StatusCode::shape_mismatch);

  auto cls = DataSource::parse("linclass:d=30:n=40:nodes=4:majority=0.75");
  REQUIRE(cls.ok());
  shard.count = 4;
  shard.index = 1;
  auto skewed = cls->load_shard(spec_of("linear:30-1:logistic"), shard);
  REQUIRE(skewed.ok());
  CHECK(skewed->label_histogram == std::vector<std::size_t>{2, 8});  // node 1: 75 % class 1 (round(7.5))

  for (const char* bad : {"linreg:d=30:n=40", "linreg:d=30:n=40:nodes=50", "linreg:d=30:n=40:nodes=4:noise=-1",
                          "linreg:d=30:n=40:nodes=4:colour=3", "linclass:d=30:n=40:nodes=4:majority=0",
                          "linreg:d=30:n=40:nodes=4:majority=0.5", "linreg:d=30:n=40:nodes"}) {
    auto parsed = DataSource::parse(bad);
    INFO(bad);
    CHECK(parsed.status().code() == edgefl::StatusCode::invalid_argument);
  }
}

TEST_CASE("data source: linclass class_mean_norm moves each class by its mean and changes nothing else") {
  const ModelSpec logistic = spec_of("linear:200-1:logistic");
  auto plain = DataSource::parse("linclass:d=200:n=100:nodes=10:mean_norm=3:majority=0.8:seed=4");
  auto moved = DataSource::parse("linclass:d=200:n=100:nodes=10:mean_norm=3:majority=0.8:class_mean_norm=5:seed=4");
  REQUIRE(plain.ok());
  REQUIRE(moved.ok());
  auto a = plain->load_test(logistic);
  auto b = moved->load_test(logistic);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  REQUIRE(a->size() == 100);
  REQUIRE(b->size() == 100);
  // Same labels and noise; row i moved by +mu (label 1) or -mu (label 0), one mu for all rows.
  std::vector<double> mu(200);
  for (std::size_t j = 0; j < 200; ++j) mu[j] = (b->feature(0, j) - a->feature(0, j)) * (b->target(0) > 0.5f ? 1 : -1);
  double norm = 0;
  for (double v : mu) norm += v * v;
  CHECK(std::sqrt(norm) == doctest::Approx(5.0).epsilon(1e-4));
  for (std::size_t i = 0; i < 100; ++i) {
    CHECK(b->target(i) == a->target(i));
    const double sign = b->target(i) > 0.5f ? 1 : -1;
    for (std::size_t j = 0; j < 200; j += 37) {
      CHECK(b->feature(i, j) - a->feature(i, j) == doctest::Approx(sign * mu[j]).epsilon(1e-4));
    }
  }
  for (const char* bad : {"linclass:d=30:n=40:nodes=4:class_mean_norm=-1", "linreg:d=30:n=40:nodes=4:class_mean_norm=2",
                          "linclass:d=30:n=40:nodes=4:class_mean_norm=nan"}) {
    INFO(bad);
    auto parsed = DataSource::parse(bad);
    CHECK(parsed.status().code() == edgefl::StatusCode::invalid_argument);
  }
}

TEST_CASE("data source: partition_rows of the loaded training set are every device's shard_rows") {
  // What the simulator shares: one training set, each device's rows of it.
  for (const char* name : {"blobs:8:4", "linear:3", "linreg:d=3:n=60:nodes=4"}) {
    CAPTURE(name);
    auto source = DataSource::parse(name);
    REQUIRE(source.ok());
    auto train = source->load_train();
    REQUIRE(train.ok());
    for (const char* scheme : {"iid", "dirichlet", "shards"}) {
      CAPTURE(scheme);
      ShardSpec shard;
      shard.scheme = scheme;
      shard.count = 4;
      shard.max_samples = 50;
      auto all = source->partition_rows(*train, shard);
      REQUIRE(all.ok());
      REQUIRE(all->size() == 4);
      for (shard.index = 0; shard.index < 4; ++shard.index) {
        auto rows = source->shard_rows(shard);
        REQUIRE(rows.ok());
        CHECK((*all)[shard.index] == *rows);
        auto loaded = source->load_shard(shard);
        REQUIRE(loaded.ok());
        REQUIRE(loaded->data.size() == rows->size());
        edgefl::DatasetView view(*train, (*all)[shard.index]);
        for (std::size_t i = 0; i < rows->size(); ++i) {
          CHECK(loaded->data.target(i) == train->target(view.index(i)));
          CHECK(loaded->data.feature(i, 0) == train->feature(view.index(i), 0));
        }
      }
    }
  }
}
