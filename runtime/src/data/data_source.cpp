#include "edgefl/data/data_source.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <numeric>
#include <span>

#include "edgefl/data/idx_reader.hpp"
#include "edgefl/data/partition.hpp"
#include "edgefl/data/synthetic.hpp"

namespace edgefl {

namespace {

constexpr std::size_t kBlobsTrain = 12000;
constexpr std::size_t kBlobsTest = 2000;
constexpr std::size_t kLinearTrain = 200;
constexpr std::size_t kLinearTest = 200;

Result<std::size_t> parse_count(const std::string& name, std::string_view text) {
  std::size_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value == 0 || value > (1u << 20)) {
    return make_status(StatusCode::invalid_argument,
                       "data '" + name + "': '" + std::string(text) + "' is not a positive size");
  }
  return value;
}

// "linreg:d=..:n=..:nodes=..[:...]" and "linclass:...": keys in any order, each once.
Status parse_node_task(const std::string& name, std::span<const std::string_view> fields, bool binary,
                       LinearTaskConfig& c) {
  c = LinearTaskConfig{};
  c.binary = binary;
  c.majority = binary ? 0.8f : 0.0f;
  c.groups = 0;
  c.samples = 0;
  c.dim = 0;
  auto bad = [&name](const std::string& why) {
    return make_status(StatusCode::invalid_argument, "data '" + name + "': " + why);
  };
  for (std::string_view field : fields) {
    const std::size_t eq = field.find('=');
    if (eq == std::string_view::npos) return bad("'" + std::string(field) + "' is not key=value");
    const std::string key(field.substr(0, eq));
    const std::string text(field.substr(eq + 1));
    if (key == "d" || key == "n" || key == "nodes") {
      Result<std::size_t> v = parse_count(name, text);
      if (!v) return v.status();
      (key == "d" ? c.dim : key == "n" ? c.samples : c.groups) = *v;
    } else if (key == "seed") {
      uint64_t seed = 0;
      auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), seed);
      if (error != std::errc() || end != text.data() + text.size()) return bad("seed '" + text + "' is not a number");
      c.seed = seed;
    } else if (key == "mean_norm" || key == "noise" || (binary && (key == "majority" || key == "class_mean_norm"))) {
      char* end = nullptr;
      const double v = std::strtod(text.c_str(), &end);
      if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(v) || v < 0) {
        return bad(key + " '" + text + "' is not a finite number >= 0");
      }
      (key == "mean_norm"         ? c.group_mean_norm
       : key == "noise"           ? c.noise
       : key == "class_mean_norm" ? c.class_mean_norm
                                  : c.majority) = static_cast<float>(v);
    } else {
      return bad("unknown key '" + key + "' (d, n, nodes, mean_norm, " + (binary ? "majority, class_mean_norm" : "noise") + ", seed)");
    }
  }
  if (c.dim == 0 || c.samples == 0 || c.groups == 0) return bad("d=, n= and nodes= are required");
  if (c.groups > c.samples) return bad("more nodes than samples");
  if (binary && !(c.majority > 0.0f && c.majority <= 1.0f)) return bad("majority must be in (0, 1]");
  return Status();
}

Result<Partition> split(const Dataset& data, const ShardSpec& s) {
  if (s.scheme == "iid") return partition_iid(data, s.count, s.seed);
  if (s.scheme == "dirichlet") return partition_dirichlet(data, s.count, s.alpha, s.seed);
  if (s.scheme == "shards") return partition_shards(data, s.count, s.shards_per_client, s.seed);
  return make_status(StatusCode::invalid_argument, "partition scheme '" + s.scheme + "' is not iid, dirichlet or shards");
}

// The rows of partition `s.index`, capped at max_samples. Targets without classes have no
// labels to skew: such data is always split IID. One partition is the whole data set.
// Partition `index`'s rows cut to max_samples; an empty partition is an error naming it.
Result<std::vector<uint32_t>> trimmed_rows(std::vector<uint32_t> rows, const ShardSpec& s,
                                           uint32_t index) {
  if (s.max_samples != 0 && rows.size() > s.max_samples) rows.resize(s.max_samples);
  if (rows.empty()) {
    return make_status(StatusCode::failed_precondition,
                       "partition " + std::to_string(index) + " of " + std::to_string(s.count) +
                           " (" + s.scheme + ") holds no samples; use another seed or alpha");
  }
  return rows;
}

// Every partition's rows of `data` (s.index unused); regression targets split IID.
Result<std::vector<std::vector<uint32_t>>> split_rows(const Dataset& data, ShardSpec s) {
  if (data.num_classes() == 0) s.scheme = "iid";
  std::vector<std::vector<uint32_t>> clients;
  if (s.count == 1) {
    clients.emplace_back(data.size());
    std::iota(clients[0].begin(), clients[0].end(), 0u);
  } else {
    Result<Partition> partition = split(data, s);
    if (!partition) return partition.status();
    clients = std::move(partition->clients);
  }
  for (uint32_t i = 0; i < clients.size(); ++i) {
    Result<std::vector<uint32_t>> rows = trimmed_rows(std::move(clients[i]), s, i);
    if (!rows) return rows.status();
    clients[i] = std::move(*rows);
  }
  return clients;
}

Result<std::vector<uint32_t>> rows_of(const Dataset& data, ShardSpec s) {
  if (s.index >= s.count) {
    return make_status(StatusCode::invalid_argument, "partition index " + std::to_string(s.index) +
                                                         " is not below the partition count " +
                                                         std::to_string(s.count));
  }
  if (data.num_classes() == 0) s.scheme = "iid";
  std::vector<uint32_t> rows;
  if (s.count == 1) {
    rows.resize(data.size());
    std::iota(rows.begin(), rows.end(), 0u);
  } else {
    Result<Partition> partition = split(data, s);
    if (!partition) return partition.status();
    rows = std::move(partition->clients[s.index]);
  }
  return trimmed_rows(std::move(rows), s, s.index);
}

Result<Dataset> keep_rows(Dataset data, std::span<const uint32_t> rows) {
  if (rows.size() == data.size()) return data;
  return data.select(rows);
}

Result<Dataset> head(Dataset data, std::size_t max_samples) {
  if (max_samples == 0 || data.size() <= max_samples) return data;
  std::vector<uint32_t> rows(max_samples);
  std::iota(rows.begin(), rows.end(), 0u);
  return data.select(rows);
}

}  // namespace

Status check_fit(const Dataset& data, const ModelSpec& spec, std::string_view what) {
  const std::size_t classes = data.num_classes();
  std::string problem;
  if (spec.input_size() != data.dim()) {
    problem = "the model takes " + std::to_string(spec.input_size()) + " inputs";
  } else if (spec.loss == LossKind::softmax_cross_entropy && (classes == 0 || classes > spec.output_size())) {
    problem = classes == 0 ? "a classifier needs class labels"
                           : "the model has " + std::to_string(spec.output_size()) + " outputs";
  } else if (spec.loss != LossKind::softmax_cross_entropy && spec.output_size() != 1) {
    problem = "the model has " + std::to_string(spec.output_size()) + " outputs";
  } else if (spec.loss == LossKind::logistic && classes > 2) {
    problem = "a logistic model needs labels 0 and 1";
  }
  if (problem.empty()) return Status();
  return make_status(StatusCode::shape_mismatch,
                     std::string(what) + " (" + std::to_string(data.dim()) + " inputs, " +
                         (classes == 0 ? std::string("regression") : std::to_string(classes) + " classes") +
                         ") does not fit model '" + spec.to_string() + "': " + problem);
}

Result<DataSource> DataSource::parse(const std::string& name, std::string dir, uint64_t seed) {
  DataSource source;
  source.name_ = name;
  source.dir_ = dir.empty() ? kFashionMnistDir : std::move(dir);
  source.seed_ = seed;
  std::vector<std::string_view> parts;
  std::string_view rest = name;
  while (true) {
    std::size_t colon = rest.find(':');
    parts.push_back(rest.substr(0, colon));
    if (colon == std::string_view::npos) break;
    rest.remove_prefix(colon + 1);
  }
  if (FileData::names_file(name)) {
    Result<FileData> file = FileData::parse(name);
    if (!file) return file.status();
    source.kind_ = Kind::file;
    source.file_ = std::move(*file);
  } else if (parts[0] == "fashion-mnist" && parts.size() == 1) {
    source.kind_ = Kind::fashion_mnist;
  } else if (parts[0] == "blobs" && parts.size() == 3) {
    source.kind_ = Kind::blobs;
    Result<std::size_t> dim = parse_count(name, parts[1]);
    if (!dim) return dim.status();
    Result<std::size_t> classes = parse_count(name, parts[2]);
    if (!classes) return classes.status();
    source.dim_ = *dim;
    source.classes_ = *classes;
  } else if (parts[0] == "linear" && parts.size() == 2) {
    source.kind_ = Kind::linear;
    Result<std::size_t> dim = parse_count(name, parts[1]);
    if (!dim) return dim.status();
    source.dim_ = *dim;
    source.classes_ = 0;
  } else if ((parts[0] == "linreg" || parts[0] == "linclass") && parts.size() > 1) {
    source.kind_ = Kind::linear_nodes;
    const bool binary = parts[0] == "linclass";
    EDGEFL_RETURN_IF_ERROR(parse_node_task(name, std::span(parts).subspan(1), binary, source.nodes_));
    source.dim_ = source.nodes_.dim;
    source.classes_ = binary ? 2 : 0;
  } else {
    return make_status(StatusCode::invalid_argument,
                       "data '" + name +
                           "' is not fashion-mnist, blobs:D:C, linear:D, linreg:..., linclass:..., csv:PATH, npy:X:Y, "
                           "npz:PATH or idx:IMAGES:LABELS");
  }
  return source;
}

Status DataSource::check_spec(const ModelSpec& spec) const {
  if (kind_ == Kind::file) return Status();
  if (kind_ == Kind::linear_nodes) {
    // Linear models: a squared loss for linreg, a logistic one for linclass.
    const bool fits = spec.input_size() == dim_ && spec.output_size() == 1 &&
                      spec.loss == (classes_ == 0 ? LossKind::squared : LossKind::logistic);
    if (fits) return Status();
    return make_status(StatusCode::shape_mismatch, "data '" + name_ + "' (" + std::to_string(dim_) + " inputs, " +
                                                       (classes_ == 0 ? "regression" : "labels 0/1") +
                                                       ") does not fit model '" + spec.to_string() + "'");
  }
  const std::size_t outputs = classes_ == 0 ? 1 : classes_;
  const bool classifier = spec.loss == LossKind::softmax_cross_entropy;
  if (spec.input_size() != dim_ || spec.output_size() != outputs || classifier != (classes_ > 1)) {
    return make_status(StatusCode::shape_mismatch,
                       "data '" + name_ + "' (" + std::to_string(dim_) + " inputs, " +
                           (classes_ == 0 ? std::string("regression") : std::to_string(classes_) + " classes") +
                           ") does not fit model '" + spec.to_string() + "'");
  }
  return Status();
}

Status DataSource::check_loaded(const Dataset& data, const ModelSpec& spec) const {
  return kind_ == Kind::file ? check_fit(data, spec, "data '" + name_ + "'") : Status();
}

Result<Dataset> DataSource::generate() const {
  if (kind_ == Kind::linear_nodes) {
    Result<LinearTask> task = make_linear_task(nodes_);
    if (!task) return task.status();
    return std::move(task->data);
  }
  if (kind_ == Kind::blobs) return make_blobs({classes_, dim_, kBlobsTrain + kBlobsTest, 3.0f, 1.0f, seed_});
  LinearTaskConfig config;
  config.samples = kLinearTrain + kLinearTest;
  config.dim = dim_;
  config.seed = seed_;
  Result<LinearTask> task = make_linear_task(config);
  if (!task) return task.status();
  return std::move(task->data);
}

Result<Dataset> DataSource::load_test(const ModelSpec& spec, std::size_t max_samples) const {
  EDGEFL_RETURN_IF_ERROR(check_spec(spec));
  switch (kind_) {
    case Kind::file: {
      Result<Dataset> test = file_.load();
      if (!test) return test.status();
      EDGEFL_RETURN_IF_ERROR(check_loaded(*test, spec));
      return head(std::move(*test), max_samples);
    }
    case Kind::fashion_mnist: {
      IdxPaths paths = fashion_mnist_paths(dir_, "t10k");
      Result<Dataset> test = load_idx(paths.images, paths.labels, 10, kFashionMnistStandardised);
      if (!test) return test.status().with_context("Fashion-MNIST test set");
      return head(std::move(*test), max_samples);
    }
    case Kind::blobs: {
      Result<Dataset> all = generate();
      if (!all) return all.status();
      std::vector<uint32_t> rows(kBlobsTest);
      std::iota(rows.begin(), rows.end(), static_cast<uint32_t>(kBlobsTrain));
      Result<Dataset> test = all->select(rows);
      if (!test) return test.status();
      return head(std::move(*test), max_samples);
    }
    case Kind::linear_nodes: {
      Result<Dataset> all = generate();
      if (!all) return all.status();
      return head(std::move(*all), max_samples);
    }
    case Kind::linear: {
      Result<Dataset> all = generate();
      if (!all) return all.status();
      std::vector<uint32_t> rows(kLinearTest);
      std::iota(rows.begin(), rows.end(), static_cast<uint32_t>(kLinearTrain));
      Result<Dataset> test = all->select(rows);
      if (!test) return test.status();
      return head(std::move(*test), max_samples);
    }
  }
  return make_status(StatusCode::internal, "unknown data kind");
}

Result<Dataset> DataSource::synthetic_train() const {
  Result<Dataset> all = generate();
  if (!all || kind_ == Kind::linear_nodes) return all;
  std::vector<uint32_t> train_rows(kind_ == Kind::blobs ? kBlobsTrain : kLinearTrain);
  std::iota(train_rows.begin(), train_rows.end(), 0u);
  return all->select(train_rows);
}

Result<std::vector<uint32_t>> DataSource::shard_rows(const ShardSpec& shard) const {
  if (kind_ == Kind::fashion_mnist) {
    Result<Dataset> labels = load_idx_labels(fashion_mnist_paths(dir_, "train").labels, 10);
    if (!labels) return labels.status().with_context("Fashion-MNIST training labels");
    return rows_of(*labels, shard);
  }
  if (kind_ == Kind::linear_nodes) return node_rows(shard);
  Result<Dataset> train = kind_ == Kind::file ? file_.load() : synthetic_train();
  if (!train) return train.status();
  return rows_of(*train, shard);
}

Result<Dataset> DataSource::load_train() const {
  if (kind_ == Kind::fashion_mnist) {
    IdxPaths paths = fashion_mnist_paths(dir_, "train");
    Result<Dataset> train = load_idx(paths.images, paths.labels, 10, kFashionMnistStandardised);
    if (!train) return train.status().with_context("Fashion-MNIST training set");
    return train;
  }
  return kind_ == Kind::file ? file_.load() : synthetic_train();
}

Result<std::vector<std::vector<uint32_t>>> DataSource::partition_rows(
    const Dataset& train, const ShardSpec& shard) const {
  if (kind_ != Kind::linear_nodes) return split_rows(train, shard);
  std::vector<std::vector<uint32_t>> clients;
  for (ShardSpec node = shard; node.index < shard.count; ++node.index) {
    Result<std::vector<uint32_t>> rows = node_rows(node);
    if (!rows) return rows.status();
    clients.push_back(std::move(*rows));
  }
  return clients;
}

Result<std::vector<uint32_t>> DataSource::node_rows(const ShardSpec& shard) const {
  if (shard.count != 1 && shard.count != nodes_.groups) {
    return make_status(StatusCode::invalid_argument,
                       "data '" + name_ + "' holds " + std::to_string(nodes_.groups) +
                           " nodes: the partition count must be 1 (all) or " + std::to_string(nodes_.groups) +
                           " (one node each), not " + std::to_string(shard.count));
  }
  if (shard.index >= shard.count) {
    return make_status(StatusCode::invalid_argument, "partition index " + std::to_string(shard.index) +
                                                         " is not below the partition count " +
                                                         std::to_string(shard.count));
  }
  auto [begin, end] = shard.count == 1 ? std::pair<std::size_t, std::size_t>{0, nodes_.samples}
                                       : linear_task_group_rows(nodes_, shard.index);
  if (shard.max_samples != 0) end = std::min(end, begin + shard.max_samples);
  std::vector<uint32_t> rows(end - begin);
  std::iota(rows.begin(), rows.end(), static_cast<uint32_t>(begin));
  return rows;
}

Result<Shard> DataSource::load_shard(const ModelSpec& spec, const ShardSpec& shard) const {
  EDGEFL_RETURN_IF_ERROR(check_spec(spec));
  Result<Shard> loaded = load_shard(shard);
  if (!loaded) return loaded.status();
  EDGEFL_RETURN_IF_ERROR(check_loaded(loaded->data, spec));
  return loaded;
}

Result<Shard> DataSource::load_shard(const ShardSpec& shard) const {
  Result<Dataset> data = Dataset();
  if (kind_ == Kind::fashion_mnist) {
    IdxPaths paths = fashion_mnist_paths(dir_, "train");
    data = load_idx_selected(paths.images, paths.labels, 10,
                             [&shard](const Dataset& labels) { return rows_of(labels, shard); },
                             kFashionMnistStandardised);
    if (!data) return data.status().with_context("Fashion-MNIST training set");
  } else {
    Result<Dataset> train = kind_ == Kind::file ? file_.load() : synthetic_train();
    if (!train) return train.status();
    Result<std::vector<uint32_t>> rows = kind_ == Kind::linear_nodes ? node_rows(shard) : rows_of(*train, shard);
    if (!rows) return rows.status();
    data = keep_rows(std::move(*train), *rows);
    if (!data) return data.status();
  }
  Shard result;
  result.label_histogram = DatasetView(*data).label_histogram();
  result.data = std::move(*data);
  return result;
}

}  // namespace edgefl
