#include "round_metrics.hpp"

#include "edgefl/json_line.hpp"

namespace edgefl::server {

std::string metrics_json(const RoundMetrics& m) {
  JsonLine line;
  line.add("round", m.round)
      .add("version", m.version)
      .add("strategy", m.strategy)
      .add("asked", m.asked)
      .add("answered", m.answered)
      .add("late", m.late)
      .add("rejected", m.rejected)
      .add("duplicates", m.duplicates)
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
                           m.asynchronous ? "version %3llu/%llu  updates %u tasks %u  train loss %.4f"
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
  if (m.late + m.rejected + m.duplicates > 0) {
    std::snprintf(text, sizeof text, "  late %u rejected %u dup %u", m.late, m.rejected,
                  m.duplicates);
    line += text;
  }
  std::snprintf(text, sizeof text, "  %.1f s", m.wall_s);
  line += text;
  return line;
}

}  // namespace edgefl::server
