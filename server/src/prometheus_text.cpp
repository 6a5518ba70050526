// GET /metrics: the Prometheus text exposition format 0.0.4. Base units (seconds, bytes,
// ratios), counters end in _total, every family has HELP and TYPE lines.
#include <charconv>
#include <cmath>

#include "status_render.hpp"

namespace edgefl::server {

namespace {

class Exposition {
 public:
  // HELP and TYPE of one family.
  void family(std::string_view name, std::string_view type, std::string_view help) {
    text_.append("# HELP edgefl_").append(name).append(" ").append(help).append("\n");
    text_.append("# TYPE edgefl_").append(name).append(" ").append(type).append("\n");
  }
  void sample(std::string_view name, std::string_view labels, uint64_t value) {
    start(name, labels);
    text_.append(std::to_string(value)).append("\n");
  }
  void sample(std::string_view name, std::string_view labels, double value) {
    start(name, labels);
    text_.append(number(value)).append("\n");
  }
  void counter(std::string_view name, std::string_view help, uint64_t value) {
    family(name, "counter", help);
    sample(name, "", value);
  }
  void gauge(std::string_view name, std::string_view help, double value) {
    family(name, "gauge", help);
    sample(name, "", value);
  }
  std::string take() { return std::move(text_); }

  static std::string number(double value) {
    if (std::isnan(value)) return "NaN";
    if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
    char text[32];  // the shortest text that reads back as `value`
    const std::to_chars_result written = std::to_chars(text, text + sizeof text, value);
    return std::string(text, written.ptr);
  }

 private:
  void start(std::string_view name, std::string_view labels) {
    text_.append("edgefl_").append(name);
    if (!labels.empty()) text_.append("{").append(labels).append("}");
    text_.append(" ");
  }
  std::string text_;
};

// A label value: backslash, double quote and line feed escaped (the only three the format needs).
std::string label_value(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    out += c == '\n' ? std::string("\\n") : std::string(1, c);
  }
  return out;
}

void round_duration_histogram(Exposition& out, const FleetTotals& totals) {
  out.family("round_duration_seconds", "histogram",
             "Wall time of closed rounds (asynchronous runs: model versions).");
  for (std::size_t i = 0; i < totals.round_seconds_buckets.size(); ++i) {
    const std::string bound = i < kRoundSecondsBuckets.size()
                                  ? Exposition::number(kRoundSecondsBuckets[i])
                                  : std::string("+Inf");
    out.sample("round_duration_seconds_bucket", "le=\"" + bound + "\"",
               totals.round_seconds_buckets[i]);
  }
  out.sample("round_duration_seconds_sum", "", totals.round_seconds_sum);
  out.sample("round_duration_seconds_count", "", totals.rounds);
}

}  // namespace

std::string prometheus_text(const FleetSnapshot& s) {
  const FleetTotals& t = s.totals;
  Exposition out;
  out.counter("rounds_closed_total", "Rounds closed (asynchronous runs: model versions produced).",
              t.rounds);
  out.gauge("rounds_target", "Rounds (or model versions) the run is set to produce.",
            static_cast<double>(s.settings.rounds));
  out.gauge("model_version", "Version of the global model.", static_cast<double>(s.version));
  out.counter("updates_accepted_total", "Updates folded into the global model.", t.accepted);
  out.family("updates_rejected_total", "counter", "Updates refused, by the refusal's status code.");
  for (const auto& [reason, count] : t.rejected_by_reason) {
    out.sample("updates_rejected_total", "reason=\"" + label_value(reason) + "\"", count);
  }
  out.counter("updates_late_total", "Updates that arrived after their round closed.", t.late);
  out.counter("updates_duplicate_total", "Resent updates acknowledged again without applying them.",
              t.duplicates);
  out.counter("samples_total", "Local training samples behind the accepted updates.", t.samples);
  out.counter("tasks_sent_total", "Tasks sent to a device for the first time.", t.tasks_sent);
  out.counter("tasks_resent_total", "Tasks sent again (lost on the link, rejoin).", t.tasks_resent);
  out.counter("received_bytes_total", "Bytes of messages received from devices.", t.bytes_in);
  out.counter("sent_bytes_total", "Bytes of messages sent to devices.", t.bytes_out);
  round_duration_histogram(out, t);
  out.gauge("devices_known", "Devices the server keeps track of.",
            static_cast<double>(s.devices.size()));
  out.gauge("devices_connected", "Devices heard from within three heartbeat intervals.",
            static_cast<double>(s.devices_connected()));
  out.gauge("devices_training", "Connected devices working on a task.",
            static_cast<double>(s.devices_training()));
  out.gauge("devices_eligible", "Connected devices that may train (no eligibility limit crossed).",
            static_cast<double>(s.devices_eligible()));
  const auto ineligible = s.devices_ineligible_by_reason();
  out.family("devices_ineligible", "gauge",
             "Connected devices that may not train now, by reason (a device may give several).");
  for (std::size_t bit = 0; bit < ineligible.size(); ++bit) {
    out.sample("devices_ineligible", "reason=\"" + std::string(kIneligibleReasonNames[bit]) + "\"",
               static_cast<double>(ineligible[bit]));
  }
  if (s.deadline_in_s)
    out.gauge("round_deadline_remaining_seconds", "Time until the open round closes at the latest.",
              *s.deadline_in_s);
  if (s.last_round) {
    out.gauge("train_loss", "Sample-weighted mean local loss of the last closed round.",
              s.last_round->train_loss);
    if (s.last_round->test_accuracy >= 0) {
      out.gauge("test_accuracy_ratio",
                "Held-out accuracy of the global model after the last closed round.",
                s.last_round->test_accuracy);
      out.gauge("test_loss", "Held-out loss of the global model after the last closed round.",
                s.last_round->test_loss);
    }
  }
  return out.take();
}

}  // namespace edgefl::server
