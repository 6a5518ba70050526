// DataSource: the named data a server evaluates on and a device trains on.
//
//   auto source = edgefl::DataSource::parse("fashion-mnist");      // or "blobs:32:4",
//   "linear:1000" auto test = source->load_test(spec, /*max_samples=*/10000);     // server-side
//   evaluation auto shard = source->load_shard(spec, shard_spec);              // one device's
//   partition auto rows = source->shard_rows(shard_spec);                     // its training-set
//   rows auto all = source->partition_rows(*source->load_train(), spec); // every partition's rows
//
// Names:
//   fashion-mnist          Debian's dataset-fashion-mnist (or `dir`), 784 inputs, 10 classes
//   blobs:D:C              Gaussian blobs, D inputs, C classes: 12000 training + 2000 test
//                          samples generated from `seed` (the same on every machine)
//   linear:D               linear regression with D features: 200 training + 200 test samples
//   linreg:d=D:n=N:nodes=M[:mean_norm=R][:noise=S][:seed=K]
//                          N samples in M nodes (contiguous groups, docs/local_gd.md), node m's
//                          x ~ N(mu_m, I) with |mu_m| = R, y = x.w_true + S N(0,1); partition m
//                          of M is node m (any partition scheme); the test set is all N samples
//   linclass:d=D:n=N:nodes=M[:mean_norm=R][:majority=F][:seed=K]
//                          the same features, labels 0/1 skewed per node: a fraction F
//                          (default 0.8) of node m's samples in class m % 2 (logistic models)
//   csv:PATH[:...]         the user's own files (edgefl/data/file_data.hpp): csv:, npy:, npz:,
//   npy:X:Y, npz:PATH,     idx:; one file is both the training and the test set (a device
//   idx:IMAGES:LABELS      trains on its file, the server evaluates on its own)
// Every load checks the data against the model spec (inputs and outputs) with an error naming
// both. A shard is computed from labels only and only its rows are kept in memory (file data is
// read whole, then cut to the shard; a partition count of 1 keeps the file as it is).
// Targets without classes (regression) are always split IID.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "edgefl/data/dataset.hpp"
#include "edgefl/data/file_data.hpp"
#include "edgefl/data/synthetic.hpp"
#include "edgefl/base/model_spec.hpp"
#include "edgefl/base/status.hpp"

namespace edgefl {

struct ShardSpec {
  std::string scheme = "dirichlet";  // iid | dirichlet | shards
  uint32_t count = 10;               // partitions of the training set
  uint32_t index = 0;                // the one to load
  double alpha = 0.5;                // dirichlet
  uint32_t shards_per_client = 2;    // shards
  uint64_t seed = 1;                 // the split (identical on every device)
  uint32_t max_samples = 0;          // keep at most this many (the first ones; 0: all)
};

struct Shard {
  Dataset data;
  std::vector<std::size_t> label_histogram;
};

// Whether a model can train on `data`: its inputs are the features, and a classifier's outputs
// cover every label (a logistic model: at most labels 0 and 1; a squared loss: one output). The
// error (shape_mismatch) starts with `what` (e.g. "data 'x.csv'"), then the data's shape and
// the model.
Status check_fit(const Dataset& data, const ModelSpec& spec, std::string_view what);

class DataSource {
 public:
  enum class Kind { fashion_mnist, blobs, linear, linear_nodes, file };

  static Result<DataSource> parse(const std::string& name, std::string dir = "", uint64_t seed = 1);

  Kind kind() const { return kind_; }
  const std::string& name() const { return name_; }
  // Shape errors (shape_mismatch) naming the data and the model spec. File data has no shape
  // before it is read: its loads check it.
  Status check_spec(const ModelSpec& spec) const;

  Result<Dataset> load_test(const ModelSpec& spec, std::size_t max_samples = 0) const;
  Result<Shard> load_shard(const ModelSpec& spec, const ShardSpec& shard) const;
  // The same without a model to check against (a device loads its data before any task).
  Result<Shard> load_shard(const ShardSpec& shard) const;
  // The training-set rows load_shard keeps (sorted), computed from the labels alone; lets
  // another program (e.g. a baseline) train on exactly the same split.
  Result<std::vector<uint32_t>> shard_rows(const ShardSpec& shard) const;
  // The whole training set, once, and every partition's rows of it (shard.index unused): the
  // rows shard_rows gives partition i are element i. For many devices in one process that
  // share one copy of the data (DatasetView) instead of each loading its shard.
  Result<Dataset> load_train() const;
  Result<std::vector<std::vector<uint32_t>>> partition_rows(const Dataset& train,
                                                            const ShardSpec& shard) const;

 private:
  // All samples of a synthetic source, training rows first (the same on every machine).
  Result<Dataset> generate() const;
  // A synthetic source's training rows, and the split actually applied to them.
  Result<Dataset> synthetic_train() const;
  // linear_nodes: node `index` of the source's nodes (or all of them for one partition).
  Result<std::vector<uint32_t>> node_rows(const ShardSpec& shard) const;
  // File data against the model, once read (other kinds: check_spec).
  Status check_loaded(const Dataset& data, const ModelSpec& spec) const;

  Kind kind_ = Kind::fashion_mnist;
  std::string name_;
  std::string dir_;
  uint64_t seed_ = 1;
  std::size_t dim_ = 784;
  std::size_t classes_ = 10;
  FileData file_;
  LinearTaskConfig nodes_;  // linear_nodes
};

}  // namespace edgefl
