// Training-step throughput of mlp:784-256-128-10 per backend and batch, one thread, and the
// machine's XNNPACK GEMM peak (a large square fully-connected op, weights packed once), so the
// achieved fraction of peak is visible. One JSON object per line on stdout; a table on stderr.
//
//   edgefl-bench-train-step [--seconds 1.0] [--backend xnnpack|reference] [--batch N]
// (--backend/--batch restrict the run to one point, e.g. under a profiler; the peak line stays.)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "edgefl/compute.hpp"
#include "edgefl/model.hpp"
#include "edgefl/network.hpp"
#include "edgefl/optimizer.hpp"
#include "edgefl/rng.hpp"

#ifdef EDGEFL_HAVE_XNNPACK
#include <xnnpack.h>
#endif

using namespace edgefl;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Multiply-adds x2 of the three GEMMs per step (the first layer needs no input gradient).
double step_flops(const ModelSpec& spec, std::size_t batch) {
  double flops = 0;
  auto layouts = spec.dense_layouts();
  for (std::size_t i = 0; i < layouts.size(); ++i) {
    const double nk = double(layouts[i].inputs) * double(layouts[i].outputs);
    flops += 2.0 * batch * nk * (i == 0 ? 2 : 3);
  }
  return flops;
}

struct Measurement {
  double samples_per_s = 0;
  double gflops = 0;
};

Measurement measure_training(const ModelSpec& spec, Backend backend, std::size_t batch, double seconds) {
  auto ctx = ComputeContext::create(backend, 1);
  if (!ctx || (*ctx)->backend() != backend) {
    std::fprintf(stderr, "backend %s unavailable\n", std::string(backend_name(backend)).c_str());
    std::exit(1);
  }
  auto net = Network::create(spec, **ctx, {batch, false});
  auto model = Model::create(spec, 1);
  auto opt = Optimizer::create({OptimizerKind::momentum, 0.01f, 0.9f}, spec.parameter_count());
  if (!net || !model || !opt) std::exit(1);
  Rng rng(7);
  for (std::size_t i = 0; i < spec.input_size() * batch; ++i) (*net)->input()[i] = rng.uniform();
  for (std::size_t s = 0; s < batch; ++s) (*net)->targets()[s] = float(rng.below(10));
  auto step = [&] {
    auto stats = (*net)->forward_backward(model->params().span(), model->grads().span(), batch, 1.0f / batch, false);
    if (!stats || !opt->step(model->params().span(), model->grads().span()).ok()) std::exit(1);
  };
  for (int i = 0; i < 20; ++i) step();  // warm-up: caches, page faults
  std::size_t steps = 0;
  auto start = Clock::now();
  double elapsed = 0;
  while ((elapsed = seconds_since(start)) < seconds) {
    for (int i = 0; i < 10; ++i) step();
    steps += 10;
  }
  Measurement m;
  m.samples_per_s = double(steps * batch) / elapsed;
  m.gflops = step_flops(spec, batch) * double(steps) / elapsed / 1e9;
  return m;
}

#ifdef EDGEFL_HAVE_XNNPACK
double xnnpack_gemm_peak(std::size_t size, double seconds) {
  if (!ComputeContext::create(Backend::xnnpack, 1).ok()) return 0;  // initialises XNNPACK
  std::vector<float> a(size * size + 64, 0.5f), w(size * size + 64, 0.25f), out(size * size + 64);
  xnn_operator_t op = nullptr;
  constexpr float kInf = std::numeric_limits<float>::infinity();
  if (xnn_create_fully_connected_nc_f32(size, size, size, size, w.data(), nullptr, -kInf, kInf, 0, &op) !=
          xnn_status_success ||
      xnn_setup_fully_connected_nc_f32(op, size, a.data(), out.data(), nullptr) != xnn_status_success) {
    return 0;
  }
  xnn_run_operator(op, nullptr);
  std::size_t runs = 0;
  auto start = Clock::now();
  double elapsed = 0;
  while ((elapsed = seconds_since(start)) < seconds) {
    xnn_run_operator(op, nullptr);
    ++runs;
  }
  xnn_delete_operator(op);
  return 2.0 * double(size) * size * size * double(runs) / elapsed / 1e9;
}
#endif

}  // namespace

int main(int argc, char** argv) {
  double seconds = 1.0;
  const char* only_backend = nullptr;
  std::size_t only_batch = 0;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--seconds") == 0) seconds = std::atof(argv[i + 1]);
    if (std::strcmp(argv[i], "--backend") == 0) only_backend = argv[i + 1];
    if (std::strcmp(argv[i], "--batch") == 0) only_batch = std::strtoul(argv[i + 1], nullptr, 10);
  }
  const char* model = "mlp:784-256-128-10";
  auto spec = ModelSpec::parse(std::string(model) + ":relu");
  if (!spec) return 1;

  double peak = 0;
#ifdef EDGEFL_HAVE_XNNPACK
  const std::size_t peak_size = 1024;
  peak = xnnpack_gemm_peak(peak_size, seconds);
  std::printf("{\"bench\":\"gemm_peak\",\"backend\":\"xnnpack\",\"size\":%zu,\"threads\":1,\"gflops\":%.2f}\n",
              peak_size, peak);
#endif
  std::fprintf(stderr, "%-10s %5s %14s %8s %8s\n", "backend", "batch", "samples/s", "GFLOP/s", "of peak");
  std::vector<Backend> backends = {Backend::reference};
#ifdef EDGEFL_HAVE_XNNPACK
  backends.insert(backends.begin(), Backend::xnnpack);
#endif
  for (Backend backend : backends) {
    if (only_backend != nullptr && backend_name(backend) != only_backend) continue;
    for (std::size_t batch : only_batch != 0 ? std::vector<std::size_t>{only_batch} : std::vector<std::size_t>{32, 128}) {
      Measurement m = measure_training(*spec, backend, batch, seconds);
      const double fraction = peak > 0 ? m.gflops / peak : 0;
      std::printf("{\"bench\":\"train_step\",\"model\":\"%s\",\"backend\":\"%s\",\"batch\":%zu,\"threads\":1,"
                  "\"samples_per_s\":%.1f,\"gflops\":%.2f,\"fraction_of_peak\":%.3f}\n",
                  model, std::string(backend_name(backend)).c_str(), batch, m.samples_per_s, m.gflops, fraction);
      std::fprintf(stderr, "%-10s %5zu %14.0f %8.2f %7.1f%%\n", std::string(backend_name(backend)).c_str(),
                   batch, m.samples_per_s, m.gflops, 100 * fraction);
      std::fflush(stdout);
    }
  }
  std::printf("{\"bench\":\"train_step_info\",\"gemm_peak_gflops\":%.2f}\n", peak);
  return 0;
}
