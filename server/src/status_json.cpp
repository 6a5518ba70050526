// GET /status: run settings, the current round, totals, the chart's recent rounds and one page
// of the device table, as one JSON object.
#include <charconv>

#include "edgefl/base/json_line.hpp"
#include "status_render.hpp"

namespace edgefl::server {

namespace {

Result<uint64_t> whole_number(std::string_view name, std::string_view text, uint64_t low,
                              uint64_t high) {
  uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < low || value > high) {
    return make_status(StatusCode::invalid_argument, std::string(name) + "='" + std::string(text) +
                                                         "' is not a whole number from " +
                                                         std::to_string(low) + " to " +
                                                         std::to_string(high));
  }
  return value;
}

template <typename Items, typename Render>
std::string json_array(const Items& items, Render render) {
  std::string out = "[";
  for (const auto& item : items) {
    if (out.size() > 1) out += ',';
    out += render(item);
  }
  return out + "]";
}

std::string counts_json(const auto& counts) {
  JsonLine object;
  for (const auto& [name, count] : counts) object.add(name, static_cast<uint64_t>(count));
  return object.str();
}

std::string settings_json(const RunSettings& s) {
  return JsonLine()
      .add("model", s.model)
      .add("strategy", s.strategy)
      .add("asynchronous", s.asynchronous)
      .add("rounds", s.rounds)
      .add("round_deadline_s", s.round_deadline_s)
      .add("min_devices", s.min_devices)
      .add("fraction", static_cast<double>(s.fraction))
      .add("batch_size", s.batch_size)
      .add("codec", s.codec)
      .str();
}

std::string device_json(const DeviceRow& d) {
  JsonLine row;
  row.add("id", d.id)
      .add("arch", d.arch)
      .add("backend", d.backend)
      .add("memory_budget_bytes", d.memory_budget_bytes)
      .add("max_micro_batch", d.max_micro_batch)
      .add("last_seen_s", d.last_seen_s)
      .add("connected", d.connected)
      .add("training", d.training)
      .add("eligible", d.ineligible == 0)
      .add("ineligible", ineligible_reason_text(d.ineligible))
      .add("rounds_taken_part", d.activity.updates_accepted);
  if (d.activity.last_loss >= 0) {
    row.add("last_loss", d.activity.last_loss).add("last_batch", d.activity.last_batch);
  }
  return row.add_json("refusals", counts_json(d.activity.refusals)).str();
}

std::string round_json(const RoundPoint& p) {
  JsonLine point;
  point.add("round", p.round).add("train_loss", p.train_loss).add("wall_s", p.wall_s);
  if (p.test_accuracy >= 0)
    point.add("test_loss", p.test_loss).add("test_accuracy", p.test_accuracy);
  return point.str();
}

std::string totals_json(const FleetTotals& t) {
  return JsonLine()
      .add("rounds", t.rounds)
      .add("accepted", t.accepted)
      .add_json("rejected", counts_json(t.rejected_by_reason))
      .add("late", t.late)
      .add("duplicates", t.duplicates)
      .add("bytes_in", t.bytes_in)
      .add("bytes_out", t.bytes_out)
      .str();
}

}  // namespace

Result<PageRequest> parse_page_request(std::string_view page, std::string_view per_page) {
  PageRequest request;
  if (!page.empty()) {
    Result<uint64_t> value = whole_number("page", page, 1, uint64_t{1} << 32);
    if (!value) return value.status();
    request.page = *value;
  }
  if (!per_page.empty()) {
    Result<uint64_t> value = whole_number("per_page", per_page, 1, PageRequest::kMaxPerPage);
    if (!value) return value.status();
    request.per_page = *value;
  }
  return request;
}

std::string status_json(const FleetSnapshot& s, const PageRequest& page) {
  const std::size_t total = s.devices.size();
  const std::size_t begin = std::min<uint64_t>(total, (page.page - 1) * page.per_page);
  const std::size_t end = std::min<uint64_t>(total, begin + page.per_page);
  const std::span<const DeviceRow> rows(s.devices.data() + begin, end - begin);

  JsonLine round;
  round.add("rounds_closed", s.rounds_closed).add("version", s.version).add("finished", s.finished);
  if (s.deadline_in_s) round.add("deadline_in_s", *s.deadline_in_s);

  return JsonLine()
      .add_json("settings", settings_json(s.settings))
      .add_json("round", round.str())
      .add("elapsed_s", s.elapsed_s)
      .add_json("totals", totals_json(s.totals))
      .add("devices_connected", static_cast<uint64_t>(s.devices_connected()))
      .add("devices_training", static_cast<uint64_t>(s.devices_training()))
      .add("devices_eligible", static_cast<uint64_t>(s.devices_eligible()))
      .add_json("recent_rounds", json_array(s.recent_rounds, round_json))
      .add_json("devices", JsonLine()
                               .add("total", static_cast<uint64_t>(total))
                               .add("page", page.page)
                               .add("per_page", page.per_page)
                               .add_json("rows", json_array(rows, device_json))
                               .str())
      .str();
}

}  // namespace edgefl::server
