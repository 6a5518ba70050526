// edgefl-train: centralised training of a model spec on Fashion-MNIST, synthetic blobs or the
// user's own files, printing per-epoch test accuracy. The interim demo of the training core, and
// a check that a model learns from a file before a federation trains on it.
//
//   edgefl-train --spec mlp:784-256-128-10:relu --epochs 10 --batch 32 --lr 0.01
//   edgefl-train --spec "in:28x28x1 conv5x5x32 ..." --weight-decay 5e-4 --lr-schedule cosine
//   edgefl-train --data blobs --spec mlp:32-64-8:relu --epochs 5
//   edgefl-train --data csv:train.csv:label=species --test-data csv:test.csv:label=species --spec mlp:4-16-3:relu
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "edgefl/data/data_source.hpp"
#include "edgefl/data/idx_reader.hpp"
#include "edgefl/nn/model.hpp"
#include "edgefl/data/partition.hpp"
#include "edgefl/data/synthetic.hpp"
#include "edgefl/optim/lr_schedule.hpp"
#include "edgefl/train/trainer.hpp"

using namespace edgefl;

namespace {

int fail(const Status& status) {
  std::fprintf(stderr, "edgefl-train: %s\n", status.to_string().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"edgefl-train: train a model spec centrally and print per-epoch test accuracy"};
  std::string spec_text = "mlp:784-256-128-10:relu", data_kind = "fashion-mnist", data_dir = kFashionMnistDir;
  std::string test_data;
  std::string backend_text = "auto", optimizer_text = "momentum", schedule_text = "constant";
  std::size_t epochs = 10, batch = 32, micro = 0, threads = 1;
  float lr = 0.01f, momentum = 0.9f, weight_decay = 0.0f, lr_min = 0.0f;
  uint64_t warmup_steps = 0;
  uint64_t seed = 1;
  const char* isa_from_env = std::getenv("EDGEFL_DIRECT_ISA");  // kept for comparing kernels
  std::string isa_text = isa_from_env != nullptr ? isa_from_env : "best";
  app.add_option("--spec", spec_text, "model spec")->capture_default_str();
  app.add_option("--data", data_kind, "fashion-mnist, blobs, or a file: csv:PATH, npy:X.npy:Y.npy, npz:PATH, idx:IMAGES:LABELS")
      ->capture_default_str();
  app.add_option("--test-data", test_data, "file data to evaluate on (default: the --data file itself)");
  app.add_option("--data-dir", data_dir, "folder with the Fashion-MNIST IDX files")->capture_default_str();
  app.add_option("--backend", backend_text, "auto, direct, xnnpack or reference")->capture_default_str();
  app.add_option("--threads", threads, "compute threads")->capture_default_str();
  app.add_option("--direct-isa", isa_text, "widest direct kernel: best, avx2 or portable (default: $EDGEFL_DIRECT_ISA)")
      ->capture_default_str();
  app.add_option("--optimizer", optimizer_text, "sgd, momentum, nesterov, adamw")->capture_default_str();
  app.add_option("--epochs", epochs)->capture_default_str();
  app.add_option("--batch", batch, "logical batch size")->capture_default_str();
  app.add_option("--micro-batch", micro, "micro-batch (0 = batch)")->capture_default_str();
  app.add_option("--lr", lr)->capture_default_str();
  app.add_option("--momentum", momentum)->capture_default_str();
  app.add_option("--weight-decay", weight_decay)->capture_default_str();
  app.add_option("--lr-schedule", schedule_text,
                 "constant, linear_warmup or cosine (cosine reaches --lr-min at the end of the last epoch)")
      ->capture_default_str();
  app.add_option("--lr-warmup-steps", warmup_steps, "warm-up steps of linear_warmup and cosine")->capture_default_str();
  app.add_option("--lr-min", lr_min, "the cosine schedule's floor")->capture_default_str();
  app.add_option("--seed", seed)->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  auto spec = ModelSpec::parse(spec_text);
  if (!spec) return fail(spec.status());
  auto backend = resolve_backend(backend_text);
  if (!backend) return fail(backend.status());
  auto isa = parse_direct_isa(isa_text);
  if (!isa) return fail(isa.status());
  auto kind = parse_optimizer(optimizer_text);
  if (!kind) return fail(kind.status());
  auto schedule_kind = parse_lr_schedule(schedule_text);
  if (!schedule_kind) return fail(schedule_kind.status());

  Dataset train, test;
  if (FileData::names_file(data_kind)) {
    ShardSpec whole;
    whole.count = 1;
    auto source = DataSource::parse(data_kind);
    if (!source) return fail(source.status());
    auto loaded = source->load_shard(*spec, whole);
    if (!loaded) return fail(loaded.status());
    train = std::move(loaded->data);
    auto test_source = DataSource::parse(test_data.empty() ? data_kind : test_data);
    if (!test_source) return fail(test_source.status());
    auto loaded_test = test_source->load_test(*spec);
    if (!loaded_test) return fail(loaded_test.status());
    test = std::move(*loaded_test);
    if (test_data.empty()) std::printf("no --test-data: evaluating on the training file\n");
  } else if (data_kind == "fashion-mnist") {
    auto fm = load_fashion_mnist(data_dir);
    if (!fm) return fail(fm.status());
    train = std::move(fm->train);
    test = std::move(fm->test);
  } else if (data_kind == "blobs") {
    auto blobs = make_blobs({spec->output_size(), spec->input_size(), 12000, 3.0f, 1.0f, seed});
    if (!blobs) return fail(blobs.status());
    auto split = partition_iid(*blobs, 6, seed);  // 5/6 train, 1/6 test, by index
    std::vector<float> xs, ys;
    auto take = [&](std::size_t from, std::size_t to, Dataset& out) -> Status {
      xs.clear();
      ys.clear();
      for (std::size_t c = from; c < to; ++c) {
        for (uint32_t i : split->clients[c]) {
          for (std::size_t j = 0; j < blobs->dim(); ++j) xs.push_back(blobs->feature(i, j));
          ys.push_back(blobs->target(i));
        }
      }
      auto d = Dataset::from_floats(blobs->dim(), xs, ys, blobs->num_classes());
      if (!d) return d.status();
      out = std::move(*d);
      return Status();
    };
    Status s = take(0, 5, train);
    if (s.ok()) s = take(5, 6, test);
    if (!s.ok()) return fail(s);
  } else {
    return fail(make_status(StatusCode::invalid_argument,
                            "--data '" + data_kind + "' is not fashion-mnist, blobs or a file (csv:, npy:, npz:, idx:)"));
  }

  auto ctx = ComputeContext::create(*backend, threads, *isa);
  if (!ctx) return fail(ctx.status());
  if ((*ctx)->fell_back()) std::fprintf(stderr, "edgefl-train: XNNPACK unavailable, using the reference backend\n");
  auto trainer = LocalTrainer::create(*spec, **ctx, {micro == 0 ? batch : micro, true});
  if (!trainer) return fail(trainer.status());
  auto model = Model::create(*spec, seed);
  if (!model) return fail(model.status());

  TrainConfig cfg;
  cfg.optimizer = {*kind, lr, momentum, weight_decay};
  cfg.batch_size = batch;
  // The schedule counts steps over the whole run: every epoch has the same number of batches.
  const std::size_t epoch_batch = std::max<std::size_t>(1, logical_batch(cfg, train.size()));
  const std::size_t steps_per_epoch = (train.size() + epoch_batch - 1) / epoch_batch;
  cfg.lr_schedule = {*schedule_kind, warmup_steps, uint64_t(epochs * steps_per_epoch), lr_min};
  if (Status s = validate(cfg.lr_schedule, lr); !s.ok()) return fail(s);
  std::printf("model %s (%zu parameters), %s backend, %zu threads, %zu train / %zu test samples\n",
              spec->to_string().c_str(), spec->parameter_count(),
              std::string(backend_name((*ctx)->backend())).c_str(), (*ctx)->threads(), train.size(), test.size());
  for (std::size_t epoch = 1; epoch <= epochs; ++epoch) {
    cfg.seed = seed * 1000003u + epoch;
    cfg.start_step = (epoch - 1) * steps_per_epoch;
    auto start = std::chrono::steady_clock::now();
    auto m = (*trainer)->train(model->params().span(), DatasetView(train), cfg);
    if (!m) return fail(m.status());
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    auto e = evaluate((*trainer)->network(), model->params().span(), DatasetView(test));
    if (!e) return fail(e.status());
    const float last_lr = scheduled_lr(cfg.lr_schedule, lr, cfg.start_step + m->steps - 1);
    std::printf("epoch %2zu  train loss %.4f  test loss %.4f  test accuracy %.2f%%  (%.1f s, %.0f samples/s, last lr %.3g)\n",
                epoch, m->mean_loss, e->loss, 100 * e->accuracy, secs, double(m->samples) / secs, last_lr);
    std::fflush(stdout);
  }
  return 0;
}
