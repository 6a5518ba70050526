// Local-GD with many local steps (full-batch local GD, uniform averaging, w0 = 0) through the
// real server and device code on a simulated cluster, measured after every round against a
// centralised reference computed in double (docs/local_gd.md).
//
//   LocalGdOptions o;  o.kase = "r1";  o.rounds = 1000;
//   auto problem = make_local_gd_problem(o);            // data, step size, reference
//   auto summary = run_local_gd(o, *problem, /*local_steps=*/10,
//                               [](const LocalGdRound& r) { ... });
//
// Cases: r1 (d = 1000, n = 200, 10 nodes, node means of norm 3, no noise; against the
// minimum-norm interpolator), r1-control (d = 50, label noise 0.1; against least squares),
// r2 (d = 500, n = 100, 10 nodes, 80/20 label skew, logistic; eta = c / L against centralised
// GD with step c, and the hard-margin SVM direction).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "edgefl/base/status.hpp"
#include "linear_references.hpp"

namespace edgefl::sim {

struct LocalGdOptions {
  std::string kase = "r1";  // r1 | r1-control | r2
  uint32_t rounds = 1000;
  double target = 1e-4;         // r1, r1-control: the round of this relative error is reported
  bool stop_at_target = false;  // end a run once it reaches `target`
  double c = 0;       // r2: centralised step (0: 4 n / lambda_max(X^T X), one over the smoothness)
  double class_mean_norm = 10;  // r2: the classes' means are +-mu of this norm (0: labels set by node only)
  uint64_t seed = 1;  // the data
  double time_limit_s = 1800;  // per run
  std::string work_dir = "/tmp/edgefl-local-gd";
};

struct LocalGdProblem {
  std::string data;  // the data source every device loads its node from
  std::string model;
  uint32_t nodes = 10;
  LinearData all;                 // all samples (classifier labels as +-1)
  std::vector<double> reference;  // r1: w*, r1-control: least squares, r2: the SVM normal
  std::size_t support_vectors = 0;  // r2: samples on the SVM's margin
  double step = 0;  // r1: eta (min over nodes of 0.5 n_m / lambda_max(X_m^T X_m)); r2: c
};

// One round's measurements of the global model (r1: rel_error, train_mse; r2: the others).
struct LocalGdRound {
  uint32_t local_steps = 0;
  uint64_t round = 0;
  double elapsed_s = 0;
  double rel_error = 0;    // |w - reference| / |reference|
  double train_mse = 0;    // mean (w.x - y)^2 / 2
  double loss = 0;         // mean logistic loss
  double cos_central = 0;  // to centralised GD after `round` steps
  double cos_svm = 0;
  double margin = 0;  // min_i y_i w.x_i / |w|
  double central_cos_svm = 0;
  double central_loss = 0;
};

struct LocalGdSummary {
  uint32_t local_steps = 0;
  float lr = 0;  // the Task's step size
  uint64_t rounds = 0;
  double seconds = 0;
  uint64_t rounds_to_target = 0;  // 0: not reached
  double final_rel_error = 0;
  Status status;  // the server's end (ok, or timeout past time_limit_s)
};

Result<LocalGdProblem> make_local_gd_problem(const LocalGdOptions& options);
Result<LocalGdSummary> run_local_gd(const LocalGdOptions& options, const LocalGdProblem& problem,
                                    uint32_t local_steps,
                                    const std::function<void(const LocalGdRound&)>& on_round);

}  // namespace edgefl::sim
