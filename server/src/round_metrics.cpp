#include "round_metrics.hpp"

#include <algorithm>

#include "edgefl/base/json_line.hpp"

namespace edgefl::server {

RoundTally::RoundTally(std::string strategy, bool asynchronous)
    : strategy_(std::move(strategy)), asynchronous_(asynchronous), metrics_(fresh()) {}

RoundMetrics RoundTally::fresh() const {
  RoundMetrics m;
  m.strategy = strategy_;
  m.asynchronous = asynchronous_;
  return m;
}

void RoundTally::task_sent(bool resend, std::size_t bytes) {
  ++(resend ? metrics_.tasks_resent : metrics_.tasks_sent);
  metrics_.bytes_out += bytes;
}

void RoundTally::accepted(const Update& update, uint64_t staleness) {
  ++metrics_.answered;
  metrics_.device_updates +=
      update.partial_sum.present() ? static_cast<uint32_t>(update.partial_sum.update_count) : 1;
  metrics_.partial_updates += update.metrics.partial_updates;
  metrics_.local_steps += update.metrics.steps;
  metrics_.samples += update.sample_count;
  loss_sum_ += update.metrics.train_loss * static_cast<double>(update.sample_count);
  staleness_sum_ += staleness;
  metrics_.max_staleness = std::max(metrics_.max_staleness, staleness);
  if (!update.metrics.batch_sizes.empty()) {
    const uint32_t last = update.metrics.batch_sizes.back();
    batch_sum_ += last;
    metrics_.max_batch = std::max(metrics_.max_batch, last);
  }
}

RoundMetrics RoundTally::peek(uint64_t version) const {
  RoundMetrics m = metrics_;
  m.version = version;
  m.asked = static_cast<uint32_t>(asked_.size());
  if (m.samples > 0) m.train_loss = loss_sum_ / static_cast<double>(m.samples);
  if (m.answered > 0) {
    m.mean_batch = static_cast<uint32_t>(batch_sum_ / m.answered);
    m.mean_staleness = static_cast<double>(staleness_sum_) / m.answered;
  }
  return m;
}

RoundMetrics RoundTally::finish(uint64_t version) {
  RoundMetrics m = peek(version);
  metrics_ = fresh();
  asked_.clear();
  loss_sum_ = 0;
  batch_sum_ = 0;
  staleness_sum_ = 0;
  return m;
}

std::string metrics_json(const RoundMetrics& m) {
  JsonLine line;
  line.add("round", m.round)
      .add("version", m.version)
      .add("strategy", m.strategy)
      .add("asked", m.asked)
      .add("tasks_sent", m.tasks_sent)
      .add("tasks_resent", m.tasks_resent)
      .add("answered", m.answered)
      .add("device_updates", m.device_updates)
      .add("partial_updates", m.partial_updates)
      .add("local_steps", m.local_steps)
      .add("late", m.late)
      .add("rejected", m.rejected)
      .add("duplicates", m.duplicates)
      .add("update_batches", m.update_batches)
      .add("wal_syncs", m.wal_syncs)
      .add("bytes_in", m.bytes_in)
      .add("bytes_out", m.bytes_out)
      .add("samples", m.samples)
      .add("train_loss", m.train_loss);
  if (m.test_accuracy >= 0) {
    line.add("test_loss", m.test_loss).add("test_accuracy", m.test_accuracy);
  }
  if (m.asynchronous) line.add("mean_staleness", m.mean_staleness).add("max_staleness", m.max_staleness);
  line.add("mean_batch", m.mean_batch)
      .add("max_batch", m.max_batch)
      .add("wall_s", m.wall_s)
      .add("elapsed_s", m.elapsed_s);
  return line.str();
}

std::string metrics_progress_line(const RoundMetrics& m, uint64_t total_rounds) {
  char text[256];
  int used = std::snprintf(text, sizeof text,
                           m.asynchronous ? "version %3llu/%llu  updates %u from %u new tasks  train loss %.4f"
                                          : "round %3llu/%llu  devices %u/%u  train loss %.4f",
                           static_cast<unsigned long long>(m.round),
                           static_cast<unsigned long long>(total_rounds), m.answered, m.asked,
                           m.train_loss);
  std::string line(text, used > 0 ? static_cast<std::size_t>(used) : 0);
  if (m.test_accuracy >= 0) {
    std::snprintf(text, sizeof text, "  test acc %5.2f%%  test loss %.4f", 100.0 * m.test_accuracy,
                  m.test_loss);
    line += text;
  }
  if (m.asynchronous) {
    std::snprintf(text, sizeof text, "  staleness %.1f (max %llu)", m.mean_staleness,
                  static_cast<unsigned long long>(m.max_staleness));
    line += text;
  }
  if (m.partial_updates > 0) {
    std::snprintf(text, sizeof text, "  partial %u", m.partial_updates);
    line += text;
  }
  if (m.late + m.rejected + m.duplicates > 0) {
    std::snprintf(text, sizeof text, "  late %u rejected %u dup %u", m.late, m.rejected,
                  m.duplicates);
    line += text;
  }
  if (m.tasks_resent > 0) {
    std::snprintf(text, sizeof text, "  tasks resent %u", m.tasks_resent);
    line += text;
  }
  std::snprintf(text, sizeof text, "  %.1f s", m.wall_s);
  line += text;
  return line;
}

}  // namespace edgefl::server
