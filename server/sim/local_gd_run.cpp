#include "local_gd_run.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "driven_run.hpp"
#include "edgefl/data/data_source.hpp"

namespace edgefl::sim {

namespace {

std::string data_name(const LocalGdOptions& o) {
  const std::string seed = ":seed=" + std::to_string(o.seed);
  if (o.kase == "r1") return "linreg:d=1000:n=200:nodes=10:mean_norm=3:noise=0" + seed;
  if (o.kase == "r1-control") return "linreg:d=50:n=200:nodes=10:mean_norm=3:noise=0.1" + seed;
  char class_means[48];
  std::snprintf(class_means, sizeof class_means, ":class_mean_norm=%g", o.class_mean_norm);
  return "linclass:d=500:n=100:nodes=10:mean_norm=3:majority=0.8" + std::string(class_means) + seed;
}

// Node `index`'s samples (index = nodes: all of them), in double; class labels become +-1.
Result<LinearData> load_rows(const DataSource& source, uint32_t nodes, uint32_t index) {
  ShardSpec shard;
  shard.count = index == nodes ? 1 : nodes;
  shard.index = index == nodes ? 0 : index;
  Result<Shard> loaded = source.load_shard(shard);
  if (!loaded) return loaded.status();
  const Dataset& data = loaded->data;
  LinearData rows{data.size(), data.dim(), std::vector<double>(data.size() * data.dim()),
                  std::vector<double>(data.size())};
  const bool classes = data.num_classes() > 0;
  for (std::size_t i = 0; i < data.size(); ++i) {
    for (std::size_t j = 0; j < data.dim(); ++j) rows.x[i * data.dim() + j] = data.feature(i, j);
    rows.y[i] = classes ? 2.0 * data.target(i) - 1.0 : data.target(i);
  }
  return rows;
}

server::ServerConfig server_config(const LocalGdOptions& o, const LocalGdProblem& p,
                                   uint32_t local_steps) {
  // Linear models start at zero.
  return local_gd_server_config(p.model, o.seed, o.rounds, p.nodes, local_steps,
                                static_cast<float>(o.kase == "r2" ? p.step / local_steps : p.step));
}

// Measures the global model after each round; r2 advances centralised GD alongside.
class RoundMeter {
 public:
  RoundMeter(const LocalGdOptions& o, const LocalGdProblem& p, uint32_t local_steps)
      : o_(o), p_(p), local_steps_(local_steps), central_(p.all.d, 0.0) {}

  LocalGdRound measure(uint64_t round, std::span<const float> global, double elapsed_s) {
    const std::vector<double> w(global.begin(), global.end());
    LocalGdRound r;
    r.local_steps = local_steps_;
    r.round = round;
    r.elapsed_s = elapsed_s;
    if (o_.kase == "r2") {
      for (; central_steps_ < round; ++central_steps_) logistic_gd_step(p_.all, central_, p_.step);
      r.loss = logistic_loss(p_.all, w);
      r.cos_central = cosine(w, central_);
      r.cos_svm = cosine(w, p_.reference);
      r.margin = normalised_margin(p_.all, w);
      r.central_cos_svm = cosine(central_, p_.reference);
      r.central_loss = logistic_loss(p_.all, central_);
    } else {
      r.rel_error = relative_error(w, p_.reference);
      r.train_mse = squared_loss(p_.all, w);
    }
    return r;
  }

 private:
  const LocalGdOptions& o_;
  const LocalGdProblem& p_;
  uint32_t local_steps_;
  std::vector<double> central_;
  uint64_t central_steps_ = 0;
};

}  // namespace

Result<LocalGdProblem> make_local_gd_problem(const LocalGdOptions& o) {
  if (o.kase != "r1" && o.kase != "r1-control" && o.kase != "r2") {
    return make_status(StatusCode::invalid_argument,
                       "local GD: case '" + o.kase + "' is not r1, r1-control or r2");
  }
  LocalGdProblem p;
  p.data = data_name(o);
  Result<DataSource> source = DataSource::parse(p.data);
  if (!source) return source.status();
  Result<LinearData> all = load_rows(*source, p.nodes, p.nodes);
  if (!all) return all.status();
  p.all = std::move(*all);
  p.model = "linear:" + std::to_string(p.all.d) + "-1" + (o.kase == "r2" ? ":logistic" : "");
  if (o.kase == "r2") {
    p.step = o.c > 0 ? o.c : 4.0 * double(p.all.n) / lambda_max(p.all);
    Result<std::vector<double>> svm = svm_direction(p.all);
    if (!svm) return svm.status();
    p.reference = std::move(*svm);
    p.support_vectors = support_vectors(p.all, p.reference);
    return p;
  }
  // One step size for every node and L: the smallest node's 0.5 n_m / lambda_max(X_m^T X_m).
  p.step = INFINITY;
  for (uint32_t m = 0; m < p.nodes; ++m) {
    Result<LinearData> node = load_rows(*source, p.nodes, m);
    if (!node) return node.status();
    p.step = std::min(p.step, 0.5 * double(node->n) / lambda_max(*node));
  }
  Result<std::vector<double>> reference =
      o.kase == "r1" ? min_norm_interpolator(p.all) : least_squares(p.all);
  if (!reference) return reference.status();
  p.reference = std::move(*reference);
  return p;
}

Result<LocalGdSummary> run_local_gd(const LocalGdOptions& o, const LocalGdProblem& p,
                                    uint32_t local_steps,
                                    const std::function<void(const LocalGdRound&)>& on_round) {
  const std::string dir = o.work_dir + "/" + o.kase + "-L" + std::to_string(local_steps);
  std::filesystem::remove_all(dir);
  SimulationOptions options;
  options.devices = p.nodes;  // device m loads node m (partition m of `nodes`)
  options.state_root = dir;
  options.seed = o.seed;
  options.configure_device = [&p](uint32_t, device::DeviceConfig& d) {
    d.data = p.data;
    d.quiet = true;
  };
  const server::ServerConfig config = server_config(o, p, local_steps);
  RoundMeter meter(o, p, local_steps);
  LocalGdSummary summary;
  summary.local_steps = local_steps;
  summary.lr = config.train.learning_rate;
  auto after_round = [&](uint64_t round, std::span<const float> global, double elapsed_s) {
    const LocalGdRound r = meter.measure(round, global, elapsed_s);
    if (o.kase != "r2") {
      summary.final_rel_error = r.rel_error;
      if (summary.rounds_to_target == 0 && r.rel_error <= o.target)
        summary.rounds_to_target = round;
    }
    if (on_round) on_round(r);
    return o.stop_at_target && summary.rounds_to_target > 0;
  };
  Result<DrivenRun> run = drive_rounds(std::move(options), config, {}, o.time_limit_s, after_round);
  if (!run) return run.status();
  summary.rounds = run->rounds;
  summary.seconds = run->seconds;
  summary.status = run->status;
  return summary;
}

}  // namespace edgefl::sim
