#include "edgefl/decentral/neighbour_exchange.hpp"

#include <algorithm>
#include <cmath>
#include <set>

namespace edgefl {

Result<NeighbourExchange> NeighbourExchange::create(const ExchangeSettings& settings,
                                                    uint64_t epoch, double self_weight,
                                                    std::vector<ExchangeNeighbour> neighbours,
                                                    std::size_t parameters,
                                                    const TimeSource& clock) {
  if (parameters == 0)
    return make_status(StatusCode::invalid_argument,
                       "neighbour exchange of a model with no parameters");
  if (settings.deadline.count() <= 0) {
    return make_status(
        StatusCode::out_of_range,
        "step deadline " + std::to_string(settings.deadline.count()) + " ms: must be positive");
  }
  double total = self_weight;
  bool weights_valid = std::isfinite(self_weight) && self_weight >= 0.0;
  std::set<std::string> ids;
  for (const ExchangeNeighbour& n : neighbours) {
    if (n.id.empty()) return make_status(StatusCode::invalid_argument, "a neighbour without an id");
    if (!ids.insert(n.id).second) {
      return make_status(StatusCode::invalid_argument, "neighbour '" + n.id + "' listed twice");
    }
    weights_valid = weights_valid && std::isfinite(n.weight) && n.weight >= 0.0;
    total += n.weight;
  }
  if (!weights_valid || std::abs(total - 1.0) > 1e-9) {
    return make_status(StatusCode::invalid_argument,
                       "mixing weights must be finite, non-negative and sum to 1; they sum to " +
                           std::to_string(total));
  }
  return NeighbourExchange(settings, epoch, self_weight, std::move(neighbours), parameters, clock);
}

NeighbourExchange::NeighbourExchange(const ExchangeSettings& settings, uint64_t epoch,
                                     double self_weight, std::vector<ExchangeNeighbour> neighbours,
                                     std::size_t parameters, const TimeSource& clock)
    : settings_(settings),
      epoch_(epoch),
      self_weight_(self_weight),
      neighbours_(std::move(neighbours)),
      slots_(neighbours_.size()),
      parameters_(parameters),
      clock_(&clock) {}

std::size_t NeighbourExchange::index_of(std::string_view id) const {
  for (std::size_t i = 0; i < neighbours_.size(); ++i) {
    if (neighbours_[i].id == id) return i;
  }
  return neighbours_.size();
}

Status NeighbourExchange::refuse(Status why) {
  ++counters_.refused;
  return why;
}

Status NeighbourExchange::begin_step(uint64_t step) {
  if (in_step_) {
    return make_status(StatusCode::failed_precondition, "step " + std::to_string(step) +
                                                            " begun before step " +
                                                            std::to_string(step_) + " finished");
  }
  if (begun_any_ && step <= step_) {
    return make_status(StatusCode::failed_precondition, "step " + std::to_string(step) +
                                                            " after step " + std::to_string(step_) +
                                                            ": steps only move forward");
  }
  // A jump (a device adopting its neighbours' step) drops what was kept for skipped steps.
  for (Slot& slot : slots_) {
    slot.models.erase(slot.models.begin(), slot.models.lower_bound(step));
    if (begun_any_ && step != step_ + 1) slot.mixed_last = false;
  }
  step_ = step;
  begun_any_ = true;
  in_step_ = true;
  deadline_ = clock_->now() + settings_.deadline;
  return Status();
}

Status NeighbourExchange::offer(const PeerModelIn& model) {
  const std::size_t i = index_of(model.from);
  if (i == neighbours_.size()) {
    return refuse(make_status(StatusCode::unknown_device,
                              "peer model from '" + model.from +
                                  "', which is not a neighbour in topology epoch " +
                                  std::to_string(epoch_)));
  }
  if (model.epoch != epoch_) {
    const std::string which = "peer model from '" + model.from + "' for topology epoch " +
                              std::to_string(model.epoch) + ", this device is in epoch " +
                              std::to_string(epoch_);
    return refuse(make_status(
        model.epoch < epoch_ ? StatusCode::stale : StatusCode::failed_precondition, which));
  }
  // Between steps the next one to begin is step_ + 1; before the first, any step is ahead.
  const uint64_t oldest = !begun_any_ ? 0 : (in_step_ ? step_ : step_ + 1);
  if (model.step < oldest) {
    return refuse(make_status(StatusCode::stale, "peer model from '" + model.from + "' for step " +
                                                     std::to_string(model.step) +
                                                     ", which is over (now at " +
                                                     std::to_string(oldest) + ")"));
  }
  if (begun_any_ && model.step > oldest + settings_.staleness_bound) {
    // Not kept, but it says the neighbour is past every step up to it: this device does not
    // wait for those (it is behind, and catches up).
    slots_[i].passed = std::max(slots_[i].passed, model.step);
    return refuse(
        make_status(StatusCode::out_of_range, "peer model from '" + model.from + "' for step " +
                                                  std::to_string(model.step) + ", more than " +
                                                  std::to_string(settings_.staleness_bound) +
                                                  " steps ahead of " + std::to_string(oldest)));
  }
  Slot& slot = slots_[i];
  // Before the first step nothing says which step is current: keep as many as the bound allows.
  if (!begun_any_ && slot.models.size() > settings_.staleness_bound) {
    return refuse(make_status(StatusCode::out_of_range,
                              "peer model from '" + model.from + "' for step " +
                                  std::to_string(model.step) +
                                  ": more early steps than the staleness bound keeps"));
  }
  if (slot.models.count(model.step) != 0) {
    return refuse(make_status(
        StatusCode::duplicate,
        "second peer model from '" + model.from + "' for step " + std::to_string(model.step)));
  }
  if (model.parameters.size() != parameters_) {
    return refuse(make_status(StatusCode::shape_mismatch,
                              "peer model from '" + model.from + "' has " +
                                  std::to_string(model.parameters.size()) + " values, the model " +
                                  std::to_string(parameters_)));
  }
  for (float v : model.parameters) {
    if (!std::isfinite(v)) {
      return refuse(make_status(StatusCode::non_finite,
                                "peer model from '" + model.from + "' for step " +
                                    std::to_string(model.step) + " holds NaN or Inf"));
    }
  }
  Arrived arrived{FloatBuffer(parameters_), model.missed_previous};
  arrived.parameters.assign(model.parameters);
  slot.models.emplace(model.step, std::move(arrived));
  ++counters_.received;
  return Status();
}

bool NeighbourExchange::complete() const {
  if (!in_step_) return false;
  for (const Slot& slot : slots_) {
    if (slot.models.count(step_) != 0) continue;
    // A neighbour that already sent a later step has passed this one: its model for it will
    // not come, so this device (behind, e.g. after a reboot) folds it without waiting.
    if (!slot.models.empty() && slot.models.rbegin()->first > step_) continue;
    if (slot.passed > step_) continue;
    return false;
  }
  return true;
}

bool NeighbourExchange::deadline_passed() const {
  return in_step_ && clock_->now() >= deadline_;
}

Result<StepOutcome> NeighbourExchange::finish() {
  if (!in_step_)
    return make_status(StatusCode::failed_precondition, "finish() without a step begun");
  if (!complete() && !deadline_passed()) {
    return make_status(
        StatusCode::failed_precondition,
        "step " + std::to_string(step_) + " finished before its models arrived or its deadline");
  }
  MixingRow row;
  row.self_weight = self_weight_;
  std::vector<bool> arrived(slots_.size());
  StepOutcome out;
  out.step = step_;
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    Slot& slot = slots_[i];
    row.neighbours.push_back({static_cast<uint32_t>(i), neighbours_[i].weight});
    auto it = slot.models.find(step_);
    arrived[i] = it != slot.models.end();
    if (arrived[i]) {
      out.models.push_back(it->second.parameters.span());
      if (it->second.missed_previous && slot.mixed_last) ++counters_.one_sided_misses;
    } else {
      out.models.emplace_back();
      out.missed.push_back(neighbours_[i].id);
      ++counters_.missed;
    }
    slot.mixed_last = arrived[i];
  }
  auto folded = fold_missing(row, arrived);
  if (!folded) return folded.status();
  out.row = std::move(*folded);
  in_step_ = false;
  return out;
}

bool NeighbourExchange::missed_previous(std::string_view neighbour) const {
  const std::size_t i = index_of(neighbour);
  return i < slots_.size() && begun_any_ && !slots_[i].mixed_last;
}

}  // namespace edgefl
