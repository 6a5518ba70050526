#include <doctest/doctest.h>

#include <sys/resource.h>
#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include "edgefl/data/idx_reader.hpp"
#include "edgefl/data/partition.hpp"
#include "edgefl/data/synthetic.hpp"
#include "temp_dir.hpp"

using namespace edgefl;
using edgefl::testing::TempDir;
namespace fs = std::filesystem;

namespace {

std::vector<uint8_t> idx_bytes(uint8_t rank, std::vector<uint32_t> dims, std::size_t payload, uint8_t fill) {
  std::vector<uint8_t> out = {0, 0, 0x08, rank};
  for (uint32_t d : dims) {
    for (int s = 24; s >= 0; s -= 8) out.push_back(uint8_t(d >> s));
  }
  for (std::size_t i = 0; i < payload; ++i) out.push_back(uint8_t((i + fill) % 10));
  return out;
}

void write_plain(const fs::path& p, const std::vector<uint8_t>& bytes) {
  std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
}

void write_gz(const fs::path& p, const std::vector<uint8_t>& bytes) {
  gzFile f = gzopen(p.c_str(), "wb");
  REQUIRE(f != nullptr);
  gzwrite(f, bytes.data(), unsigned(bytes.size()));
  gzclose(f);
}


}  // namespace

TEST_CASE("IDX reader: plain and gzip files, and clear errors for bad files") {
  TempDir dir;
  write_plain(dir.file("img"), idx_bytes(3, {4, 2, 3}, 24, 0));
  write_gz(dir.file("img.gz"), idx_bytes(3, {4, 2, 3}, 24, 0));
  write_plain(dir.file("lab"), idx_bytes(1, {4}, 4, 3));
  for (const char* images : {"img", "img.gz"}) {
    auto d = load_idx(dir.file(images), dir.file("lab"), 10);
    REQUIRE(d.ok());
    CHECK(d->size() == 4);
    CHECK(d->dim() == 6);
    CHECK(d->target(1) == 4.0f);
    CHECK(d->feature(1, 0) == doctest::Approx(6.0 / 255));
    CHECK(d->memory_bytes() < 4 * 6 + 4 * 4 + 64);  // bytes, not floats
  }
  auto missing = load_idx(dir.file("nope"), dir.file("lab"), 10);
  CHECK(missing.status().code() == StatusCode::not_found);
  CHECK(missing.status().message().find("nope") != std::string::npos);

  write_plain(dir.file("short"), idx_bytes(3, {4, 2, 3}, 20, 0));
  CHECK(load_idx(dir.file("short"), dir.file("lab"), 10).status().code() == StatusCode::truncated);
  write_plain(dir.file("header_only"), {0, 0, 8});
  CHECK(load_idx(dir.file("header_only"), dir.file("lab"), 10).status().code() == StatusCode::truncated);
  CHECK(load_idx(dir.file("lab"), dir.file("lab"), 10).status().code() == StatusCode::corrupt);
  write_plain(dir.file("lab5"), idx_bytes(1, {5}, 5, 0));
  CHECK(load_idx(dir.file("img"), dir.file("lab5"), 10).status().code() == StatusCode::shape_mismatch);
  CHECK(load_idx(dir.file("img"), dir.file("lab"), 5).status().code() == StatusCode::corrupt);
  CHECK(load_fashion_mnist(dir.path()).status().code() == StatusCode::not_found);
}

TEST_CASE("Fashion-MNIST from Debian's dataset-fashion-mnist package") {
  auto fm = load_fashion_mnist();
  REQUIRE_MESSAGE(fm.ok(), fm.status().to_string());
  CHECK(fm->train.size() == 60000);
  CHECK(fm->test.size() == 10000);
  CHECK(fm->train.dim() == 784);
  auto histogram = DatasetView(fm->test).label_histogram();
  for (std::size_t count : histogram) CHECK(count == 1000);
  CHECK(fm->train.memory_bytes() < 60000 * 790);
}

TEST_CASE("synthetic data is deterministic and shaped as asked") {
  auto a = make_blobs({3, 5, 30, 3.0f, 1.0f, 9}), b = make_blobs({3, 5, 30, 3.0f, 1.0f, 9});
  REQUIRE((a.ok() && b.ok()));
  CHECK(a->size() == 30);
  CHECK(a->num_classes() == 3);
  for (std::size_t i = 0; i < 30; ++i) CHECK(a->feature(i, 2) == b->feature(i, 2));
  CHECK(make_blobs({3, 5, 30, 3.0f, 1.0f, 10}).value().feature(0, 0) != a->feature(0, 0));

  auto reg = make_linear_task({50, 200, 5, 3.0f, 0.0f, false, 4});
  REQUIRE(reg.ok());
  CHECK(reg->data.dim() == 200);
  CHECK(reg->data.num_classes() == 0);
  double dot = 0;
  for (std::size_t j = 0; j < 200; ++j) dot += reg->data.feature(7, j) * reg->w_true[j];
  CHECK(reg->data.target(7) == doctest::Approx(dot).epsilon(1e-4));
  auto cls = make_linear_task({40, 100, 1, 0.0f, 0.0f, true, 4});
  REQUIRE(cls.ok());
  for (float y : cls->data.targets()) CHECK((y == 0.0f || y == 1.0f));
  CHECK(!make_blobs({1, 5, 30}).ok());
  CHECK(!make_linear_task({10, 5, 20}).ok());
}

TEST_CASE("partitioners cover every sample once, deterministically, with label histograms") {
  auto data = make_blobs({10, 2, 2000, 3.0f, 1.0f, 1});
  REQUIRE(data.ok());
  auto check_cover = [&](const Partition& p, std::size_t clients) {
    REQUIRE(p.clients.size() == clients);
    std::vector<int> seen(data->size(), 0);
    for (std::size_t c = 0; c < clients; ++c) {
      for (uint32_t i : p.clients[c]) ++seen[i];
      CHECK(std::accumulate(p.histograms[c].begin(), p.histograms[c].end(), std::size_t{0}) == p.clients[c].size());
    }
    for (int s : seen) CHECK(s == 1);
  };
  auto iid = partition_iid(*data, 7, 3);
  REQUIRE(iid.ok());
  check_cover(*iid, 7);
  for (auto& c : iid->clients) CHECK((c.size() == 285 || c.size() == 286));
  CHECK(partition_iid(*data, 7, 3)->clients == iid->clients);
  CHECK(partition_iid(*data, 7, 4)->clients != iid->clients);

  auto classes_of = [](const std::vector<std::size_t>& h) {
    return std::count_if(h.begin(), h.end(), [](std::size_t n) { return n > 0; });
  };
  auto shards = partition_shards(*data, 10, 2, 5);
  REQUIRE(shards.ok());
  check_cover(*shards, 10);
  for (auto& h : shards->histograms) CHECK(classes_of(h) <= 4);  // 2 shards, each spans <= 2 classes

  auto skewed = partition_dirichlet(*data, 10, 0.1, 5), even = partition_dirichlet(*data, 10, 100.0, 5);
  REQUIRE((skewed.ok() && even.ok()));
  check_cover(*skewed, 10);
  check_cover(*even, 10);
  double skewed_classes = 0, even_classes = 0;
  for (std::size_t c = 0; c < 10; ++c) {
    skewed_classes += double(classes_of(skewed->histograms[c]));
    even_classes += double(classes_of(even->histograms[c]));
  }
  CHECK(skewed_classes < 0.6 * even_classes);
  CHECK(partition_dirichlet(*data, 10, 0.1, 5)->clients == skewed->clients);

  CHECK(partition_dirichlet(*data, 10, 0.0, 5).status().code() == StatusCode::invalid_argument);
  CHECK(partition_iid(*data, 0, 5).status().code() == StatusCode::invalid_argument);
  CHECK(partition_shards(*data, 10, 1000, 5).status().code() == StatusCode::invalid_argument);
  auto reg = make_linear_task({50, 10, 1});
  REQUIRE(reg.ok());
  CHECK(partition_dirichlet(reg->data, 2, 1.0, 1).status().code() == StatusCode::invalid_argument);

  std::vector<uint32_t> bad = {0, 5000};
  CHECK(DatasetView(*data, bad).validate().code() == StatusCode::out_of_range);
}

TEST_CASE("IDX reader: a header claiming gigabytes the file does not hold costs no gigabytes") {
  // 4 images of 16384 x 16384 bytes (1 GiB, addressable on 32-bit boards too) announced, 10
  // bytes present. Found by fuzz_idx: the reader allocated the claim before reading.
  TempDir dir;
  write_plain(dir.file("img"), idx_bytes(3, {4, 16384, 16384}, 10, 0));
  write_plain(dir.file("lab"), idx_bytes(1, {4}, 4, 3));
  auto whole = load_idx(dir.file("img"), dir.file("lab"), 10);
  CHECK(whole.status().code() == StatusCode::truncated);
  auto first = load_idx_selected(dir.file("img"), dir.file("lab"), 10, [](const Dataset&) {
    return Result<std::vector<uint32_t>>(std::vector<uint32_t>{0, 3});
  });
  CHECK(first.status().code() == StatusCode::truncated);
  struct rusage usage {};
  REQUIRE(getrusage(RUSAGE_SELF, &usage) == 0);
  CHECK(usage.ru_maxrss < 512 * 1024);  // kilobytes: far below the claimed 1 GiB
}
