#include "dpsgd_peer.hpp"

#include <algorithm>
#include <bit>

namespace edgefl {

DpsgdPeer::DpsgdPeer(PeerLinks& links, std::string self_id, uint64_t run_id,
                     const DecodeLimits& limits, const TimeSource& clock, Log log)
    : links_(&links),
      self_id_(std::move(self_id)),
      run_id_(run_id),
      limits_(limits),
      clock_(&clock),
      log_(std::move(log)) {}

Status DpsgdPeer::assign(const PeerAssignment& assignment, std::size_t parameters) {
  std::vector<PeerAddress> addresses;
  std::vector<ExchangeNeighbour> neighbours;
  for (const PeerNeighbour& n : assignment.neighbours) {
    addresses.push_back({n.device_id, n.endpoint, n.public_key});
    neighbours.push_back({n.device_id, n.weight});
  }
  ExchangeSettings settings{.deadline = std::chrono::milliseconds(assignment.step_deadline_ms),
                            .staleness_bound = assignment.staleness_bound};
  auto exchange = NeighbourExchange::create(settings, assignment.epoch, assignment.self_weight,
                                            std::move(neighbours), parameters, *clock_);
  if (!exchange) return exchange.status().with_context("peer assignment");
  EDGEFL_RETURN_IF_ERROR(links_->set_neighbours(addresses));
  retired_ = counters();
  exchange_.emplace(std::move(*exchange));
  sent_ = FloatBuffer(parameters);
  incoming_ = FloatBuffer(parameters);
  distances_.clear();
  return Status();
}

ExchangeCounters DpsgdPeer::counters() const {
  ExchangeCounters total = retired_;
  if (exchange_) {
    const ExchangeCounters& now = exchange_->counters();
    total.received += now.received;
    total.refused += now.refused;
    total.missed += now.missed;
    total.one_sided_misses += now.one_sided_misses;
  }
  return total;
}

Result<std::size_t> DpsgdPeer::discard_inbound() {
  std::size_t dropped = 0;
  for (;;) {
    auto inbound = links_->receive(std::chrono::milliseconds(0));
    if (!inbound) return inbound.status().with_context("peer socket");
    if (!*inbound) return dropped;
    ++dropped;
  }
}

Result<PeerStepResult> DpsgdPeer::step(uint64_t step, std::span<float> params,
                                       const LocalStep& local_step) {
  if (!exchange_)
    return make_status(StatusCode::failed_precondition, "a DPSGD step before any peer assignment");
  if (params.size() != sent_.size()) {
    return make_status(StatusCode::shape_mismatch, "step on " + std::to_string(params.size()) +
                                                       " parameters, the assignment has " +
                                                       std::to_string(sent_.size()));
  }
  EDGEFL_RETURN_IF_ERROR(exchange_->begin_step(step));
  sent_.assign(params);
  PeerStepResult result;
  result.step = step;
  for (const ExchangeNeighbour& n : exchange_->neighbours()) {
    PeerModel model{.sender = self_id_,
                    .epoch = exchange_->epoch(),
                    .step = step,
                    .missed_previous = exchange_->missed_previous(n.id),
                    .params = f32_tensor(sent_.span()),
                    .run_id = run_id_};
    auto bytes = encode_message(model);
    if (!bytes) return bytes.status().with_context("encoding this device's peer model");
    if (links_->send_to(n.id, *bytes).ok()) {
      ++result.sent_to;
      traffic_.bytes_sent += bytes->size();
    }
  }
  EDGEFL_RETURN_IF_ERROR(local_step(params));
  while (!exchange_->complete() && !exchange_->deadline_passed()) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(exchange_->deadline() -
                                                                            clock_->now());
    auto inbound = links_->receive(
        std::clamp(left, std::chrono::milliseconds(1), std::chrono::milliseconds(50)));
    if (!inbound) return inbound.status().with_context("peer socket");
    if (*inbound) handle(**inbound);
  }
  auto outcome = exchange_->finish();
  if (!outcome) return outcome.status();
  EDGEFL_RETURN_IF_ERROR(mix_into(params, sent_.span(), outcome->row, outcome->models));
  for (std::size_t i = 0; i < outcome->models.size(); ++i) {
    if (outcome->models[i].empty()) continue;
    auto distance = squared_distance(sent_.span(), outcome->models[i]);
    if (distance) distances_[exchange_->neighbours()[i].id] = *distance;
  }
  result.missed = std::move(outcome->missed);
  return result;
}

const PeerModel* DpsgdPeer::verify(const Inbound& inbound, std::optional<DecodedMessage>& decoded) {
  traffic_.bytes_received += inbound.payload.size();
  auto message = decode_message(inbound.payload, scratch_, limits_);
  const PeerModel* model = message ? std::get_if<PeerModel>(&message->message) : nullptr;
  if (model == nullptr) {
    ++traffic_.undecodable;
    refuse("?", message ? make_status(StatusCode::invalid_argument,
                                      "a peer may only send peer_model, not " +
                                          std::string(message_type_name(message->type())))
                        : message.status());
    return nullptr;
  }
  decoded.emplace(std::move(*message));
  model = &std::get<PeerModel>(decoded->message);
  if (links_->secure()) {
    // The key proves who is on the other end; the sender field must agree with it.
    const std::optional<std::string> owner = links_->neighbour_with_key(inbound.identity);
    if (!owner || *owner != model->sender) {
      ++traffic_.refused;
      refuse(model->sender,
             make_status(StatusCode::unauthenticated,
                         "peer model claims sender '" + model->sender +
                             "' on a connection authenticated as " +
                             (owner ? "'" + *owner + "'" : std::string("no neighbour"))));
      return nullptr;
    }
  }
  if (model->run_id != run_id_) {
    ++traffic_.refused;
    refuse(model->sender,
           make_status(StatusCode::stale, "peer model from '" + model->sender + "' of run " +
                                              std::to_string(model->run_id)));
    return nullptr;
  }
  Status values = decoded->payload_into(incoming_.span());
  if (!values.ok()) {
    ++traffic_.refused;
    refuse(model->sender, values);
    return nullptr;
  }
  return model;
}

void DpsgdPeer::handle(const Inbound& inbound) {
  std::optional<DecodedMessage> decoded;
  const PeerModel* model = verify(inbound, decoded);
  if (model == nullptr) return;
  Status taken = exchange_->offer(PeerModelIn{model->sender, model->epoch, model->step,
                                              model->missed_previous, incoming_.span()});
  if (!taken.ok()) {
    ++traffic_.refused;
    refuse(model->sender, taken);
  }
}

Result<std::optional<uint64_t>> DpsgdPeer::adopt_neighbours(std::span<float> params,
                                                            std::chrono::milliseconds wait) {
  if (!exchange_)
    return make_status(StatusCode::failed_precondition, "adopting before any peer assignment");
  if (params.size() != incoming_.size()) {
    return make_status(StatusCode::shape_mismatch,
                       "adopting into " + std::to_string(params.size()) + " parameters");
  }
  // The newest model of each neighbour that spoke.
  std::map<std::string, std::pair<uint64_t, FloatBuffer>> newest;
  const SteadyTime until = clock_->now() + wait;
  while (clock_->now() < until && newest.size() < exchange_->neighbours().size()) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - clock_->now());
    auto inbound = links_->receive(
        std::clamp(left, std::chrono::milliseconds(1), std::chrono::milliseconds(50)));
    if (!inbound) return inbound.status().with_context("peer socket");
    if (!*inbound) continue;
    std::optional<DecodedMessage> decoded;
    const PeerModel* model = verify(**inbound, decoded);
    if (model == nullptr) continue;
    const bool neighbour =
        std::any_of(exchange_->neighbours().begin(), exchange_->neighbours().end(),
                    [&](const ExchangeNeighbour& n) { return n.id == model->sender; });
    if (!neighbour || model->epoch != exchange_->epoch()) {
      ++traffic_.refused;
      refuse(model->sender, make_status(neighbour ? StatusCode::stale : StatusCode::unknown_device,
                                        "peer model from '" + model->sender + "' (epoch " +
                                            std::to_string(model->epoch) + ") while adopting"));
      continue;
    }
    auto& [step, values] = newest[model->sender];
    if (values.size() == 0 || model->step > step) {
      step = model->step;
      values = incoming_.clone();
    }
  }
  if (newest.empty()) return std::optional<uint64_t>();
  uint64_t step = 0;
  std::fill(params.begin(), params.end(), 0.0f);
  const float share = 1.0f / static_cast<float>(newest.size());
  for (const auto& [id, model] : newest) {
    step = std::max(step, model.first);
    for (std::size_t e = 0; e < params.size(); ++e) params[e] += share * model.second[e];
  }
  return std::optional<uint64_t>(step);
}

void DpsgdPeer::refuse(const std::string& sender, const Status& why) {
  // One line for the 1st, 2nd, 4th, 8th ... refusal per sender and reason: a flood cannot
  // flood the log.
  const uint64_t count = ++refusals_[{sender, why.code()}];
  if (log_ && std::has_single_bit(count)) {
    log_("refused peer message #" + std::to_string(count) + " from '" + sender +
         "': " + why.to_string());
  }
}

}  // namespace edgefl
