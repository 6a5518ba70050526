#include "dpsgd_worker.hpp"

#include <algorithm>

#include "dpsgd_peer.hpp"
#include "edgefl/base/rng.hpp"
#include "edgefl/optim/lr_schedule.hpp"
#include "edgefl/proto/checkpoint.hpp"
#include "edgefl/store/atomic_file.hpp"
#include "edgefl/train/trainer.hpp"

namespace edgefl::device {

struct DpsgdWorker::State {
  Bytes message;  // the assignment the model was built from (its params are views into it)
  AlignedBytes scratch;
  uint64_t run_id = 0;
  ModelSpec spec;
  TaskConfig config;
  uint32_t report_interval = 1;
  uint32_t snapshot_interval = 0;
  uint64_t epoch = 0;
  std::chrono::milliseconds step_deadline{0};
  uint64_t staleness_bound = 0;
  std::unique_ptr<ComputeContext> compute;
  std::unique_ptr<LocalTrainer> trainer;
  FloatBuffer params;
  std::optional<DpsgdPeer> peer;
  std::vector<uint32_t> order;  // this pass over the local data
  std::size_t cursor = 0;
  uint64_t passes = 0;
  double loss_sum = 0.0;  // since the last report
  uint64_t loss_samples = 0;
  ExchangeCounters reported_counters;
  PeerTraffic reported_traffic;
};

DpsgdWorker::DpsgdWorker(DpsgdWorkerOptions options, std::unique_ptr<PeerLinks> links, LogSink log)
    : options_(std::move(options)), links_(std::move(links)), log_(std::move(log)) {
  thread_ = std::thread([this] { run(); });
}

DpsgdWorker::~DpsgdWorker() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void DpsgdWorker::assign(Bytes message) {
  {
    std::lock_guard lock(mutex_);
    pending_ = std::move(message);
  }
  wake_.notify_all();
}

std::vector<Bytes> DpsgdWorker::take_reports() {
  std::lock_guard lock(mutex_);
  return std::exchange(reports_, {});
}

Status DpsgdWorker::error() const {
  std::lock_guard lock(mutex_);
  return error_;
}

void DpsgdWorker::run() {
  State state;
  Status end = train(state);
  if (!end.ok() && log_) log_("error: decentralised training stopped: " + end.to_string());
  std::lock_guard lock(mutex_);
  error_ = end;
  finished_ = true;
}

namespace {

OptimizerConfig optimizer_config(const TaskConfig& c) {
  return OptimizerConfig{.kind = c.optimizer,
                         .lr = c.lr,
                         .momentum = c.momentum,
                         .weight_decay = c.weight_decay,
                         .beta1 = c.beta1,
                         .beta2 = c.beta2,
                         .eps = c.eps};
}

// The model, trainer and initial parameters of a run's first assignment.
Status build(DpsgdWorker::State& s, const PeerAssignment& a, const DpsgdWorkerOptions& options) {
  Result<ModelSpec> spec = ModelSpec::parse(a.start.model_spec);
  if (!spec) return spec.status();
  auto compute = ComputeContext::create(options.backend, options.threads);
  if (!compute) return compute.status();
  const std::size_t batch =
      a.start.config.batch_size > 0 ? a.start.config.batch_size : options.local_data().size();
  auto trainer = LocalTrainer::create(*spec, **compute,
                                      {.max_micro_batch = std::min<std::size_t>(batch, 256)});
  if (!trainer) return trainer.status();
  s.spec = *spec;
  s.config = a.start.config;
  s.run_id = a.start.run_id;
  s.compute = std::move(*compute);
  s.trainer = std::move(*trainer);
  s.params = FloatBuffer(spec->parameter_count());
  EDGEFL_RETURN_IF_ERROR(
      decode_into(a.start.params, s.params.span()).with_context("peer assignment start params"));
  return s.trainer->prepare(optimizer_config(s.config), options.local_data().size());
}

// The positions of the next minibatch; a new seeded shuffle when a pass is used up.
std::span<const uint32_t> next_batch(DpsgdWorker::State& s, std::size_t samples, uint64_t seed) {
  const std::size_t batch =
      s.config.batch_size > 0 ? std::min<std::size_t>(s.config.batch_size, samples) : samples;
  if (s.order.size() != samples || s.cursor + batch > samples) {
    s.order.resize(samples);
    for (std::size_t i = 0; i < samples; ++i) s.order[i] = static_cast<uint32_t>(i);
    Rng rng(seed, s.passes++);
    for (std::size_t i = samples; i > 1; --i)
      std::swap(s.order[i - 1], s.order[rng.below(static_cast<uint32_t>(i))]);
    s.cursor = 0;
  }
  std::span<const uint32_t> out(s.order.data() + s.cursor, batch);
  s.cursor += batch;
  return out;
}

// The state file: a checkpoint (checksummed) whose model_version is the step; the run id
// travels as two exact 32-bit halves.
constexpr const char* kRunIdHigh = "dpsgd.run_id_high";
constexpr const char* kRunIdLow = "dpsgd.run_id_low";

Status persist(const DpsgdWorkerOptions& options, const DpsgdWorker::State& s, uint64_t step) {
  Checkpoint c;
  c.model_version = step;
  c.model_spec = s.spec.to_string();
  c.params = f32_tensor(s.params.span());
  c.scalars = {{kRunIdHigh, static_cast<double>(s.run_id >> 32)},
               {kRunIdLow, static_cast<double>(s.run_id & 0xffffffffu)}};
  auto bytes = encode_checkpoint(c);
  if (!bytes) return bytes.status();
  return atomic_write_file(*options.fs, options.state_path, std::as_bytes(std::span(*bytes)));
}

// The persisted step of this run, with its parameters written into `params`; nullopt when
// there is none (or it belongs to another run or model).
std::optional<uint64_t> load_persisted(const DpsgdWorkerOptions& options,
                                       const DpsgdWorker::State& s, std::span<float> params) {
  if (options.fs == nullptr || options.state_path.empty()) return std::nullopt;
  auto bytes = read_file(*options.fs, options.state_path, std::uint64_t{1} << 32);
  if (!bytes) return std::nullopt;
  AlignedBytes scratch;
  auto c = decode_checkpoint(
      std::span(reinterpret_cast<const uint8_t*>(bytes->data()), bytes->size()), scratch);
  if (!c || c->model_spec != s.spec.to_string()) return std::nullopt;
  uint64_t run_id = 0;
  for (const NamedScalar& v : c->scalars) {
    if (v.name == kRunIdHigh) run_id |= static_cast<uint64_t>(v.value) << 32;
    if (v.name == kRunIdLow) run_id |= static_cast<uint64_t>(v.value);
  }
  if (run_id != s.run_id || !decode_into(c->params, params).ok()) return std::nullopt;
  return c->model_version;
}

Result<Bytes> report(DpsgdWorker::State& s, uint64_t step) {
  const ExchangeCounters counters = s.peer->counters();
  const PeerTraffic& traffic = s.peer->traffic();
  PeerReport r;
  r.epoch = s.epoch;
  r.step = step;
  r.train_loss = s.loss_samples > 0
                     ? static_cast<float>(s.loss_sum / static_cast<double>(s.loss_samples))
                     : 0.0f;
  for (const auto& [id, distance] : s.peer->distances()) {
    r.neighbours.push_back(id);
    r.squared_distances.push_back(distance);
  }
  r.missed = counters.missed - s.reported_counters.missed;
  r.one_sided_misses = counters.one_sided_misses - s.reported_counters.one_sided_misses;
  r.refused = (traffic.refused + traffic.undecodable) -
              (s.reported_traffic.refused + s.reported_traffic.undecodable);
  r.bytes_sent = traffic.bytes_sent - s.reported_traffic.bytes_sent;
  r.bytes_received = traffic.bytes_received - s.reported_traffic.bytes_received;
  if (s.snapshot_interval > 0 && step % s.snapshot_interval == 0)
    r.snapshot = f32_tensor(s.params.span());
  s.reported_counters = counters;
  s.reported_traffic = traffic;
  s.loss_sum = 0.0;
  s.loss_samples = 0;
  return encode_message(r);
}

}  // namespace

Result<uint64_t> DpsgdWorker::first_step(State& s, const PeerAssignment& a) {
  FloatBuffer persisted(s.params.size());
  const std::optional<uint64_t> own = load_persisted(options_, s, persisted.span());
  if (own) s.params.assign(persisted.span());
  if (a.start.config.start_step == 0) {  // the run starts now: everybody begins together
    if (!own) return uint64_t{0};
    if (log_) log_("resumed the persisted state of step " + std::to_string(*own));
    return *own;
  }
  // A run in progress: what do the neighbours say?
  return rejoin(s, own, a.start.config.start_step, "the persisted state");
}

Result<uint64_t> DpsgdWorker::rejoin(State& s, std::optional<uint64_t> own, uint64_t fallback,
                                     std::string_view own_name) {
  FloatBuffer mean(s.params.size());
  auto adopted = s.peer->adopt_neighbours(mean.span(), 2 * s.step_deadline);
  if (!adopted) return adopted.status();
  if (own && (!*adopted || **adopted <= *own + s.staleness_bound)) {
    if (log_) log_("resumed " + std::string(own_name) + " of step " + std::to_string(*own));
    return *own;
  }
  if (!*adopted) {
    if (log_)
      log_("no neighbour spoke: starting from the run's initial model at step " +
           std::to_string(fallback));
    return fallback;
  }
  s.params.assign(mean.span());
  s.trainer->reset_optimizer();
  EDGEFL_RETURN_IF_ERROR(
      s.trainer->prepare(optimizer_config(s.config), options_.local_data().size()));
  if (log_) {
    log_("adopted the neighbours' mean at step " + std::to_string(**adopted) +
         (own ? " (step " + std::to_string(*own) + " is too old)" : std::string()));
  }
  return **adopted + 1;
}

bool DpsgdWorker::pause(std::chrono::steady_clock::duration duration) {
  std::unique_lock lock(mutex_);
  return !wake_.wait_for(lock, duration, [&] { return stop_; });
}

Result<uint64_t> DpsgdWorker::outage(State& s, uint64_t step) {
  if (options_.on_offline) options_.on_offline();
  if (log_)
    log_("offline for " + std::to_string(options_.offline.count()) + " ms after step " +
         std::to_string(step) + " (simulated)");
  if (!pause(options_.offline)) return step;
  // Nothing reached a device off the network: drop what its socket queued meanwhile.
  auto dropped = s.peer->discard_inbound();
  if (!dropped) return dropped.status();
  return rejoin(s, step, step, "its own state");
}

Status DpsgdWorker::train(State& s) {
  const DatasetView view = options_.local_data();
  const std::size_t samples = view.size();
  if (samples == 0)
    return make_status(StatusCode::failed_precondition,
                       "decentralised training without local data");
  uint64_t step = 0;
  Rng outage_draws(options_.offline_seed, options_.offline_stream);
  for (;;) {
    std::optional<Bytes> next;
    {
      std::unique_lock lock(mutex_);
      if (!s.peer) wake_.wait(lock, [&] { return stop_ || pending_.has_value(); });
      if (stop_) return Status();
      next = std::exchange(pending_, std::nullopt);
    }
    if (next) {
      auto decoded = decode_message(*next, s.scratch, options_.limits);
      if (!decoded) return decoded.status().with_context("peer assignment");
      const auto* a = std::get_if<PeerAssignment>(&decoded->message);
      if (a == nullptr)
        return make_status(StatusCode::internal, "the worker was given no peer assignment");
      const bool new_run = !s.peer || a->start.run_id != s.run_id;
      if (new_run) {
        EDGEFL_RETURN_IF_ERROR(build(s, *a, options_));
        s.peer.emplace(*links_, options_.device_id, s.run_id, options_.limits, steady_time_source(),
                       [log = log_](std::string_view line) {
                         if (log) log(std::string(line));
                       });
        step = 0;
      }
      EDGEFL_RETURN_IF_ERROR(s.peer->assign(*a, s.params.size()));
      s.step_deadline = std::chrono::milliseconds(a->step_deadline_ms);
      s.staleness_bound = a->staleness_bound;
      if (new_run) {
        auto first = first_step(s, *a);
        if (!first) return first.status();
        step = *first;
      }
      s.epoch = a->epoch;
      s.report_interval = a->report_interval;
      s.snapshot_interval = a->snapshot_interval;
      // Give the links to new neighbours a moment: a model sent before the handshake is lost.
      const std::vector<std::string> waiting =
          links_->wait_connected(std::chrono::milliseconds(a->step_deadline_ms));
      if (!waiting.empty() && log_)
        log_("topology epoch " + std::to_string(a->epoch) + ": " + std::to_string(waiting.size()) +
             " neighbour(s) not reachable yet");
      s.message = std::move(*next);
    }
    if (step >= s.config.local_steps) return Status();
    OptimizerConfig current = s.trainer->optimizer()->config();
    current.lr = scheduled_lr(s.config.lr_schedule, s.config.lr, step);
    EDGEFL_RETURN_IF_ERROR(s.trainer->optimizer()->set_config(current));
    const std::span<const uint32_t> batch =
        next_batch(s, samples, splitmix64(s.config.seed ^ options_.device_seed));
    auto local = [&](std::span<float> x) -> Status {
      const auto started = std::chrono::steady_clock::now();
      auto stats = s.trainer->step(x, view, batch, BatchTest::none, nullptr, s.config.clip_norm);
      if (!stats) return stats.status();
      if (options_.slowdown > 1.0)  // a slow board: the rest of its compute time, waited out
        (void)pause(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
            (std::chrono::steady_clock::now() - started) * (options_.slowdown - 1.0)));
      s.loss_sum += stats->loss_sum;
      s.loss_samples += batch.size();
      return Status();
    };
    auto done = s.peer->step(step, s.params.span(), local);
    if (!done) return done.status().with_context("step " + std::to_string(step));
    ++step;
    steps_done_ = step;
    if (options_.fs != nullptr && options_.persist_interval > 0 &&
        step % options_.persist_interval == 0) {
      // A failed write costs only the resume point: training goes on.
      Status saved = persist(options_, s, step);
      if (!saved.ok() && log_)
        log_("warning: persisting the decentralised state: " + saved.to_string());
    }
    if (step % s.report_interval == 0 || step == s.config.local_steps) {
      auto bytes = report(s, step);
      if (!bytes) return bytes.status().with_context("peer report");
      std::lock_guard lock(mutex_);
      reports_.push_back(std::move(*bytes));
    }
    if (step < s.config.local_steps && options_.offline_probability > 0 &&
        outage_draws.uniform() < options_.offline_probability) {
      auto back = outage(s, step);
      if (!back) return back.status().with_context("rejoining after an outage");
      step = *back;
    }
  }
}

}  // namespace edgefl::device
