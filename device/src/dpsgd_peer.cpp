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
  exchange_.emplace(std::move(*exchange));
  sent_ = FloatBuffer(parameters);
  incoming_ = FloatBuffer(parameters);
  distances_.clear();
  return Status();
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

void DpsgdPeer::handle(const Inbound& inbound) {
  traffic_.bytes_received += inbound.payload.size();
  auto decoded = decode_message(inbound.payload, scratch_, limits_);
  const PeerModel* model = decoded ? std::get_if<PeerModel>(&decoded->message) : nullptr;
  if (model == nullptr) {
    ++traffic_.undecodable;
    refuse("?", decoded ? make_status(StatusCode::invalid_argument,
                                      "a peer may only send peer_model, not " +
                                          std::string(message_type_name(decoded->type())))
                        : decoded.status());
    return;
  }
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
      return;
    }
  }
  if (model->run_id != run_id_) {
    ++traffic_.refused;
    refuse(model->sender,
           make_status(StatusCode::stale, "peer model from '" + model->sender + "' of run " +
                                              std::to_string(model->run_id)));
    return;
  }
  Status values = decoded->payload_into(incoming_.span());
  Status taken = values.ok()
                     ? exchange_->offer(PeerModelIn{model->sender, model->epoch, model->step,
                                                    model->missed_previous, incoming_.span()})
                     : values;
  if (!taken.ok()) {
    ++traffic_.refused;
    refuse(model->sender, taken);
  }
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
