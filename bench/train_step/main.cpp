// Training-step throughput per model (mlp:784-256-128-10, the FedAvg paper's MNIST CNN and a small
// 9k-parameter CNN), backend and batch, one thread, and the machine's XNNPACK GEMM peak (a large square fully-connected op, weights packed once), so the
// achieved fraction of peak is visible. A step is Network::train_step (optimizer fused into the
// backward pass, what LocalTrainer runs); "fused":false points run forward_backward and then
// Optimizer::step, to show what the fusion is worth. Each point alternates 10 slices of the peak
// GEMM and of training and reports the median slice of each (the statistic bench/train_step/run
// also uses for PyTorch). One JSON object per line on stdout; a table on stderr.
//
//   edgefl-bench-train-step [--seconds 2.0 per point] [--backend direct|xnnpack|reference] [--batch N]
//                           [--model mlp|fedavg_cnn|small_cnn]
//                           [--direct-isa best|avx2|portable, default $EDGEFL_DIRECT_ISA or best]
// (--backend/--batch/--model restrict the run, e.g. under a profiler; the peak line stays.)
// Then, unless --backend names another backend than xnnpack: the Conv2D layers of the two CNNs
// on XNNPACK's convolution operators against edgefl's passes ({"bench":"conv_op",...},
// xnnpack_conv.hpp), and edgefl's GFLOP/s on each layer as a fraction of the peak.
//   edgefl-bench-train-step --serve [--threads N] [--model NAME, default mlp]
// answers stdin requests "BACKEND BATCH SECONDS" with one timed slice each
// ({"bench":"train_step_slice",...}), so bench/train_step/run can alternate slices with a live
// PyTorch process; each (backend, batch) is built and warmed up once, on its first request.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "edgefl/nn/compute.hpp"
#include "edgefl/nn/model.hpp"
#include "edgefl/nn/network.hpp"
#include "edgefl/optim/optimizer.hpp"
#include "edgefl/base/rng.hpp"
#include "xnnpack_conv.hpp"

#ifdef EDGEFL_HAVE_XNNPACK
#include <xnnpack.h>
#endif

using namespace edgefl;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// The benched models: the name in the JSON lines and the spec. The CNNs are
// examples/models/fedavg_cnn_28x28.json and small_cnn_28x28.json.
struct BenchModel {
  const char* name;
  const char* spec;
};
constexpr BenchModel kModels[] = {
    {"mlp:784-256-128-10", "mlp:784-256-128-10:relu"},
    {"fedavg_cnn", "in:28x28x1 conv5x5x32 relu maxpool2 conv5x5x64 relu maxpool2 flatten dense512 relu dense10 "
                   "loss:xent"},
    {"small_cnn", "in:28x28x1 conv3x3x8 relu maxpool2 conv3x3x16 relu maxpool2 flatten dense10 loss:xent"},
    // The FedAvg CNN's second conv layer nearly alone (all three of its GEMM passes: the 1x1
    // depthwise layer before it needs its input gradient), for the conv layers' GFLOP/s.
    {"fedavg_conv2", "in:14x14x32 dwconv1x1 conv5x5x64 flatten dense1 loss:squared"},
};

const BenchModel* find_model(std::string_view name) {
  if (name == "mlp") return &kModels[0];
  for (const BenchModel& m : kModels) {
    if (name == m.name) return &m;
  }
  return nullptr;
}

// Multiply-adds x2 of one pass of a layer with weights (conv windows counted whole, padding
// included, as is usual), or 0.
double layer_flops(const LayerGeometry& g, std::size_t batch) {
  const LayerSpec& l = g.spec;
  const double pixels = double(g.out.h) * double(g.out.w), window = double(l.kernel_h) * double(l.kernel_w);
  switch (l.kind) {
    case LayerKind::dense: return 2.0 * batch * double(g.in.size()) * double(g.out.size());
    case LayerKind::conv2d: return 2.0 * batch * pixels * double(g.out.c) * window * double(g.in.c);
    case LayerKind::depthwise_conv2d: return 2.0 * batch * pixels * double(g.out.c) * window;
    default: return 0;
  }
}

// Forward, weight gradient and input gradient of every layer with weights (the first needs no
// input gradient). conv_only: the Conv2D layers alone.
double step_flops(const ModelSpec& spec, std::size_t batch, bool conv_only = false) {
  double flops = 0;
  bool first = true;
  for (const LayerGeometry& g : spec.geometry()) {
    const double f = layer_flops(g, batch);
    if (f == 0) continue;
    if (!conv_only || g.spec.kind == LayerKind::conv2d) flops += f * (first ? 2 : 3);
    first = false;
  }
  return flops;
}

struct Measurement {
  double samples_per_s = 0;
  double gflops = 0;
};

// The median (the upper middle value for an even count).
double median(std::vector<double> values) {
  if (values.empty()) return 0;
  auto middle = values.begin() + static_cast<std::ptrdiff_t>(values.size() / 2);
  std::nth_element(values.begin(), middle, values.end());
  return *middle;
}

// One training point (backend, batch) with its network and optimizer, measured in slices.
class TrainPoint {
 public:
  TrainPoint(const ModelSpec& spec, Backend backend, DirectIsa isa, std::size_t batch, bool fused,
             std::size_t threads = 1)
      : spec_(spec), batch_(batch), fused_(fused) {
    auto ctx = ComputeContext::create(backend, threads, isa);
    if (!ctx || (*ctx)->backend() != backend) {
      std::fprintf(stderr, "backend %s unavailable\n", std::string(backend_name(backend)).c_str());
      std::exit(1);
    }
    ctx_ = std::move(*ctx);
    auto net = Network::create(spec, *ctx_, {batch, false});
    auto model = Model::create(spec, 1);
    auto opt = Optimizer::create({OptimizerKind::momentum, 0.01f, 0.9f}, spec.parameter_count());
    if (!net || !model || !opt) std::exit(1);
    net_ = std::move(*net);
    model_.emplace(std::move(*model));
    opt_.emplace(std::move(*opt));
    Rng rng(7);
    for (std::size_t i = 0; i < spec.input_size() * batch; ++i) net_->input()[i] = rng.uniform();
    for (std::size_t s = 0; s < batch; ++s) net_->targets()[s] = float(rng.below(10));
    // Warm-up (caches, page faults): 20 steps, or fewer when steps are slow.
    const auto start = Clock::now();
    for (int i = 0; i < 20 && seconds_since(start) < 1.0; ++i) step();
  }

  Measurement run_for(double seconds) {
    std::size_t steps = 0;
    auto start = Clock::now();
    double elapsed = 0;
    while ((elapsed = seconds_since(start)) < seconds) {
      step();
      ++steps;
    }
    Measurement m;
    m.samples_per_s = double(steps * batch_) / elapsed;
    m.gflops = step_flops(spec_, batch_) * double(steps) / elapsed / 1e9;
    return m;
  }

 private:
  void step() {
    const float scale = 1.0f / float(batch_);
    if (fused_) {
      if (!net_->train_step(model_->params().span(), model_->grads().span(), batch_, scale, *opt_)) std::exit(1);
      return;
    }
    auto stats = net_->forward_backward(model_->params().span(), model_->grads().span(), batch_, scale, false);
    if (!stats || !opt_->step(model_->params().span(), model_->grads().span()).ok()) std::exit(1);
  }

  const ModelSpec& spec_;
  std::size_t batch_;
  bool fused_;
  std::unique_ptr<ComputeContext> ctx_;
  std::unique_ptr<Network> net_;
  std::optional<Model> model_;
  std::optional<Optimizer> opt_;
};

#ifdef EDGEFL_HAVE_XNNPACK
// XNNPACK's GEMM peak: one size^3 fully-connected operator, weights packed once, one thread.
class GemmPeak {
 public:
  explicit GemmPeak(std::size_t size)
      : size_(size), a_(size * size + 64, 0.5f), w_(size * size + 64, 0.25f), out_(size * size + 64) {
    if (!ComputeContext::create(Backend::xnnpack, 1).ok()) return;  // initialises XNNPACK
    constexpr float kInf = std::numeric_limits<float>::infinity();
    xnn_operator_t op = nullptr;
    if (xnn_create_fully_connected_nc_f32(size, size, size, size, w_.data(), nullptr, -kInf, kInf, 0, &op) !=
        xnn_status_success) {
      return;
    }
    op_ = op;
    if (xnn_setup_fully_connected_nc_f32(op_, size, a_.data(), out_.data(), nullptr) != xnn_status_success ||
        xnn_run_operator(op_, nullptr) != xnn_status_success) {
      xnn_delete_operator(op_);
      op_ = nullptr;
    }
  }
  ~GemmPeak() {
    if (op_ != nullptr) xnn_delete_operator(op_);
  }
  GemmPeak(const GemmPeak&) = delete;
  GemmPeak& operator=(const GemmPeak&) = delete;

  std::size_t size() const { return size_; }
  double run_for(double seconds) {
    if (op_ == nullptr) return 0;
    std::size_t runs = 0;
    auto start = Clock::now();
    double elapsed = 0;
    while ((elapsed = seconds_since(start)) < seconds) {
      xnn_run_operator(op_, nullptr);
      ++runs;
    }
    return 2.0 * double(size_) * double(size_) * double(size_) * double(runs) / elapsed / 1e9;
  }

 private:
  std::size_t size_;
  std::vector<float> a_, w_, out_;
  xnn_operator_t op_ = nullptr;
};
#endif

// --serve: one slice per stdin request "BACKEND BATCH SECONDS", one JSON line per answer.
int serve(const ModelSpec& spec, const char* model, std::size_t threads, DirectIsa isa) {
  std::map<std::pair<Backend, std::size_t>, std::unique_ptr<TrainPoint>> points;
  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream request(line);
    std::string name;
    std::size_t batch = 0;
    double seconds = 0;
    Result<Backend> backend = make_status(StatusCode::invalid_argument, "no backend");
    if (request >> name >> batch >> seconds) backend = parse_backend(name);
    if (!backend || batch == 0 || batch > 65536 || !(seconds > 0 && seconds < 600)) {
      std::fprintf(stderr, "edgefl-bench-train-step: bad request '%s': expected BACKEND BATCH SECONDS\n",
                   line.c_str());
      return 2;
    }
    auto& point = points[{*backend, batch}];
    if (!point) point = std::make_unique<TrainPoint>(spec, *backend, isa, batch, true, threads);
    const Measurement m = point->run_for(seconds);
    std::printf("{\"bench\":\"train_step_slice\",\"model\":\"%s\",\"backend\":\"%s\",\"batch\":%zu,\"threads\":%zu,"
                "\"seconds\":%.3f,\"samples_per_s\":%.1f,\"gflops\":%.3f}\n",
                model, name.c_str(), batch, threads, seconds, m.samples_per_s, m.gflops);
    std::fflush(stdout);
  }
  return 0;
}

// The conv_op lines: per Conv2D layer of the CNNs (those of --model) and batch, each pass on
// edgefl and on XNNPACK (operator creation, run, layout transposes), which is faster, and
// edgefl's GFLOP/s over the layer's passes as a fraction of the GEMM peak.
void run_conv_ops(const char* only_model, const char* only_backend, std::size_t only_batch, double slice,
                  double peak) {
  if (only_backend != nullptr && std::string_view(only_backend) != "xnnpack") return;
  for (const bench::ConvLayerCase& layer : bench::benched_conv_layers()) {
    if (only_model != nullptr && !layer.name.starts_with(std::string(only_model) + ".")) continue;
    for (std::size_t batch : {std::size_t{32}, std::size_t{128}}) {
      if (only_batch != 0 && batch != only_batch) continue;
      bench::ConvOpTiming t;
      if (!bench::time_conv_ops(layer, batch, 10, slice, t)) return;
      const double pass_flops = 2.0 * double(batch) * double(layer.h * layer.w * layer.filters) *
                                double(layer.kernel * layer.kernel * layer.c);
      const bool input_grad = layer.c > 1;
      const double edgefl_ms = t.edgefl_forward + t.edgefl_weight_grad + t.edgefl_input_grad;
      const double gflops = pass_flops * (input_grad ? 3 : 2) / edgefl_ms / 1e6;
      const double xnn_forward = t.xnn_forward_create + t.xnn_forward_run + t.xnn_forward_transpose;
      const double xnn_input_grad = t.xnn_input_grad_create + t.xnn_input_grad_run + t.xnn_input_grad_transpose;
      std::printf("{\"bench\":\"conv_op\",\"layer\":\"%s\",\"batch\":%zu,\"threads\":1,"
                  "\"edgefl_forward_ms\":%.4f,\"edgefl_weight_grad_ms\":%.4f,\"edgefl_input_grad_ms\":%.4f,"
                  "\"xnnpack_forward_create_ms\":%.4f,\"xnnpack_forward_run_ms\":%.4f,"
                  "\"xnnpack_forward_transpose_ms\":%.4f,\"xnnpack_input_grad_create_ms\":%.4f,"
                  "\"xnnpack_input_grad_run_ms\":%.4f,\"xnnpack_input_grad_transpose_ms\":%.4f,"
                  "\"xnnpack_forward_wins\":%s,\"xnnpack_input_grad_wins\":%s,"
                  "\"edgefl_layer_gflops\":%.2f,\"edgefl_layer_fraction_of_peak\":%.3f,"
                  "\"check_forward_rel_error\":%.2e,\"check_input_grad_rel_error\":%.2e}\n",
                  layer.name.c_str(), batch, t.edgefl_forward, t.edgefl_weight_grad, t.edgefl_input_grad,
                  t.xnn_forward_create, t.xnn_forward_run, t.xnn_forward_transpose, t.xnn_input_grad_create,
                  t.xnn_input_grad_run, t.xnn_input_grad_transpose, xnn_forward < t.edgefl_forward ? "true" : "false",
                  input_grad && xnn_input_grad < t.edgefl_input_grad ? "true" : "false", gflops,
                  peak > 0 ? gflops / peak : 0.0, t.forward_max_error, t.input_grad_max_error);
      std::fprintf(stderr, "%-18s batch %3zu  edgefl fwd %.3f wgrad %.3f dx %.3f ms (%.1f GFLOP/s)  "
                   "xnnpack fwd %.3f+%.3f+%.3f dx %.3f+%.3f+%.3f ms (create+run+transposes)\n",
                   layer.name.c_str(), batch, t.edgefl_forward, t.edgefl_weight_grad, t.edgefl_input_grad, gflops,
                   t.xnn_forward_create, t.xnn_forward_run, t.xnn_forward_transpose, t.xnn_input_grad_create,
                   t.xnn_input_grad_run, t.xnn_input_grad_transpose);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 2.0;
  const char* only_backend = nullptr;
  std::size_t only_batch = 0;
  const char* isa_text = std::getenv("EDGEFL_DIRECT_ISA");  // or --direct-isa
  std::size_t threads = 1;
  bool serve_mode = false;
  const char* only_model_name = nullptr;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--serve") == 0) serve_mode = true;
    if (i + 1 == argc) continue;
    if (std::strcmp(argv[i], "--seconds") == 0) seconds = std::atof(argv[i + 1]);
    if (std::strcmp(argv[i], "--backend") == 0) only_backend = argv[i + 1];
    if (std::strcmp(argv[i], "--batch") == 0) only_batch = std::strtoul(argv[i + 1], nullptr, 10);
    if (std::strcmp(argv[i], "--threads") == 0) threads = std::strtoul(argv[i + 1], nullptr, 10);
    if (std::strcmp(argv[i], "--direct-isa") == 0) isa_text = argv[i + 1];
    if (std::strcmp(argv[i], "--model") == 0) only_model_name = argv[i + 1];
  }
  auto isa = parse_direct_isa(isa_text != nullptr ? isa_text : "best");
  if (!isa) {
    std::fprintf(stderr, "edgefl-bench-train-step: %s\n", isa.status().to_string().c_str());
    return 2;
  }
  if (threads == 0 || threads > 256 || (threads != 1 && !serve_mode)) {
    std::fprintf(stderr, "edgefl-bench-train-step: --threads (1..256) applies to --serve; the table is one thread\n");
    return 2;
  }
  const BenchModel* only_model = only_model_name != nullptr ? find_model(only_model_name) : nullptr;
  if (only_model_name != nullptr && only_model == nullptr) {
    std::fprintf(stderr, "edgefl-bench-train-step: unknown --model %s (mlp, fedavg_cnn, small_cnn, fedavg_conv2)\n",
                 only_model_name);
    return 2;
  }
  std::vector<std::pair<const BenchModel*, ModelSpec>> models;
  for (const BenchModel& m : kModels) {
    if (only_model != nullptr ? only_model != &m : serve_mode && &m != &kModels[0]) continue;
    auto spec = ModelSpec::parse(m.spec);
    if (!spec) {
      std::fprintf(stderr, "edgefl-bench-train-step: %s\n", spec.status().to_string().c_str());
      return 1;
    }
    models.emplace_back(&m, std::move(*spec));
  }
  if (serve_mode) return serve(models[0].second, models[0].first->name, threads, *isa);

  // The machine may be shared: each point alternates slices of the GEMM peak and of training,
  // and reports the median slice of each, so both sides of the ratio see the same conditions.
  // The peak reported (and divided by) is the median of all peak slices of the run.
  constexpr int kRounds = 10;
  const double slice = seconds / kRounds;
  std::vector<double> peak_slices;
#ifdef EDGEFL_HAVE_XNNPACK
  GemmPeak gemm_peak(1024);
  auto peak_slice = [&] { peak_slices.push_back(gemm_peak.run_for(slice)); };
#else
  auto peak_slice = [] {};
#endif
  std::vector<Backend> backends = {Backend::direct, Backend::reference};
#ifdef EDGEFL_HAVE_XNNPACK
  backends.insert(backends.begin() + 1, Backend::xnnpack);
#endif
  struct Point {
    const BenchModel* model;
    Backend backend;
    std::size_t batch;
    bool fused;
    Measurement median;
    double conv_share;  // of the step's FLOPs, in Conv2D layers
  };
  std::vector<Point> points;
  for (const auto& [model, spec] : models) {
    for (Backend backend : backends) {
      if (only_backend != nullptr && backend_name(backend) != only_backend) continue;
      const std::vector<std::size_t> batches = only_batch != 0 ? std::vector<std::size_t>{only_batch}
                                                               : std::vector<std::size_t>{32, 128};
      for (std::size_t batch : batches) {
        // The unfused ablation of the MLP at batch 32 for the fast backends.
        for (bool fused : {true, false}) {
          if (!fused && (backend == Backend::reference || batch != 32 || model != &kModels[0])) continue;
          TrainPoint train(spec, backend, *isa, batch, fused);
          std::vector<double> samples, gflops;
          for (int r = 0; r < kRounds; ++r) {
            peak_slice();
            Measurement m = train.run_for(slice);
            samples.push_back(m.samples_per_s);
            gflops.push_back(m.gflops);
          }
          const double conv_share = step_flops(spec, batch, true) / step_flops(spec, batch);
          points.push_back({model, backend, batch, fused, {median(samples), median(gflops)}, conv_share});
        }
      }
    }
  }
  const double peak = median(peak_slices);
#ifdef EDGEFL_HAVE_XNNPACK
  std::printf("{\"bench\":\"gemm_peak\",\"backend\":\"xnnpack\",\"size\":%zu,\"threads\":1,\"gflops\":%.2f}\n",
              gemm_peak.size(), peak);
#endif
  std::fprintf(stderr, "%-20s %-10s %5s %6s %14s %8s %8s\n", "model", "backend", "batch", "fused", "samples/s",
               "GFLOP/s", "of peak");
  for (const Point& p : points) {
    const std::string backend(backend_name(p.backend));
    const double fraction = peak > 0 ? p.median.gflops / peak : 0;
    std::printf("{\"bench\":\"train_step\",\"model\":\"%s\",\"backend\":\"%s\",\"batch\":%zu,\"threads\":1,"
                "\"fused\":%s,\"samples_per_s\":%.1f,\"gflops\":%.2f,\"fraction_of_peak\":%.3f,"
                "\"conv_flop_share\":%.3f}\n",
                p.model->name, backend.c_str(), p.batch, p.fused ? "true" : "false", p.median.samples_per_s,
                p.median.gflops, fraction, p.conv_share);
    std::fprintf(stderr, "%-20s %-10s %5zu %6s %14.0f %8.2f %7.1f%%\n", p.model->name, backend.c_str(), p.batch,
                 p.fused ? "yes" : "no", p.median.samples_per_s, p.median.gflops, 100 * fraction);
  }
  run_conv_ops(only_model_name, only_backend, only_batch, slice, peak);
  std::printf("{\"bench\":\"train_step_info\",\"gemm_peak_gflops\":%.2f,\"direct_isa\":\"%s\"}\n", peak,
              std::string(direct_kernel_isa(*isa)).c_str());
  return 0;
}
