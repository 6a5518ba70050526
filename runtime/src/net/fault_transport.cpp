#include "edgefl/net/fault_transport.hpp"

#include <algorithm>

namespace edgefl {

DelayLine::DelayLine(const LinkDelay& link, uint64_t seed, uint64_t stream) : link_(link), rng_(seed, stream) {}

DelayLine::Clock::time_point DelayLine::push(Bytes payload, Clock::time_point now) {
  auto seconds = [](double s) { return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s)); };
  const double transmit = link_.bytes_per_s > 0.0 ? static_cast<double>(payload.size()) / link_.bytes_per_s : 0.0;
  const double jitter = link_.jitter_s * rng_.uniform_double();  // drawn for every message
  link_free_ = std::max(now, link_free_) + seconds(transmit);
  const Clock::time_point due = std::max(last_due_, link_free_ + seconds(link_.latency_s + jitter));
  last_due_ = due;
  queue_.push_back(Queued{due, std::move(payload)});
  return due;
}

std::optional<Bytes> DelayLine::pop_due(Clock::time_point now) {
  if (queue_.empty() || queue_.front().due > now) return std::nullopt;
  Bytes out = std::move(queue_.front().payload);
  queue_.pop_front();
  return out;
}

std::optional<DelayLine::Clock::time_point> DelayLine::next_due() const {
  if (queue_.empty()) return std::nullopt;
  return queue_.front().due;
}

FaultInjector::FaultInjector(const FaultPlan& plan, uint64_t stream)
    : plan_(plan), rng_(plan.seed, stream) {}

void FaultInjector::release_due(std::vector<Item>& out) {
  for (auto it = delayed_.begin(); it != delayed_.end();) {
    if (it->remaining == 0 || --it->remaining == 0) {
      out.push_back(std::move(it->item));
      ++stats_.passed;
      it = delayed_.erase(it);
    } else {
      ++it;
    }
  }
}

std::vector<FaultInjector::Item> FaultInjector::tick() {
  std::vector<Item> out;
  release_due(out);
  return out;
}

std::vector<FaultInjector::Item> FaultInjector::feed(Item item) {
  std::vector<Item> out;
  release_due(out);
  // Draw every decision for every message, so one message's fate does not shift the next's.
  const double drop = rng_.uniform_double();
  const double truncate = rng_.uniform_double();
  const double delay = rng_.uniform_double();
  const double reorder = rng_.uniform_double();
  const double duplicate = rng_.uniform_double();
  const uint32_t cut_draw = rng_.next_u32();

  if (drop < plan_.drop) {
    ++stats_.dropped;
    return out;
  }
  if (truncate < plan_.truncate && !item.payload.empty()) {
    item.payload.resize(cut_draw % item.payload.size());  // strictly shorter
    ++stats_.truncated;
  }
  if (delay < plan_.delay && plan_.delay_ops > 0) {
    ++stats_.delayed;
    delayed_.push_back(Held{std::move(item), plan_.delay_ops});
    return out;
  }
  if (reorder < plan_.reorder && !reorder_slot_) {
    ++stats_.reordered;
    reorder_slot_ = std::move(item);  // goes out right after the next message
    return out;
  }
  const bool twice = duplicate < plan_.duplicate;
  if (twice) {
    ++stats_.duplicated;
    out.push_back(item);
    ++stats_.passed;
  }
  out.push_back(std::move(item));
  ++stats_.passed;
  if (reorder_slot_) {
    out.push_back(std::move(*reorder_slot_));
    reorder_slot_.reset();
    ++stats_.passed;
  }
  return out;
}

namespace {
FaultStats add(const FaultStats& a, const FaultStats& b) {
  return FaultStats{a.passed + b.passed,   a.dropped + b.dropped,     a.duplicated + b.duplicated,
                    a.delayed + b.delayed, a.reordered + b.reordered, a.truncated + b.truncated};
}

// Streams of the seeded generator, so send and receive faults are independent.
constexpr uint64_t kSendStream = 1;
constexpr uint64_t kReceiveStream = 2;
constexpr uint64_t kUplinkStream = 3;
constexpr uint64_t kDownlinkStream = 4;
}  // namespace

// ---- device side ----

FaultyDeviceChannel::FaultyDeviceChannel(DeviceChannel& inner, const FaultPlan& plan)
    : inner_(inner),
      plan_(plan),
      send_faults_(plan, kSendStream),
      receive_faults_(plan, kReceiveStream),
      uplink_(plan.link, plan.seed, kUplinkStream),
      downlink_(plan.link, plan.seed, kDownlinkStream) {}

Status FaultyDeviceChannel::send(ByteView message) {
  std::vector<FaultInjector::Item> out;
  if (plan_.on_send) {
    out = send_faults_.feed({{}, {}, Bytes(message.begin(), message.end())});
  } else if (plan_.link.active()) {
    out.push_back({{}, {}, Bytes(message.begin(), message.end())});
  } else {
    return inner_.send(message);
  }
  for (auto& item : out) {
    if (plan_.link.active()) {
      uplink_.push(std::move(item.payload), DelayLine::Clock::now());
    } else {
      EDGEFL_RETURN_IF_ERROR(inner_.send(item.payload));
    }
  }
  return flush_uploads();
}

Status FaultyDeviceChannel::flush_uploads() {
  while (auto due = uplink_.pop_due(DelayLine::Clock::now())) EDGEFL_RETURN_IF_ERROR(inner_.send(*due));
  return Status();
}

std::chrono::milliseconds FaultyDeviceChannel::wait_until_due(DelayLine::Clock::time_point limit) const {
  for (auto due : {uplink_.next_due(), downlink_.next_due()}) {
    if (due) limit = std::min(limit, *due);
  }
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(limit - DelayLine::Clock::now());
  return std::max(left, std::chrono::milliseconds(0));
}

Result<std::optional<Bytes>> FaultyDeviceChannel::receive(std::chrono::milliseconds timeout) {
  if (!plan_.link.active()) return receive_faulty(timeout);
  const auto deadline = DelayLine::Clock::now() + timeout;
  while (true) {
    EDGEFL_RETURN_IF_ERROR(flush_uploads());
    if (auto due = downlink_.pop_due(DelayLine::Clock::now())) return std::optional<Bytes>(std::move(*due));
    const bool last = DelayLine::Clock::now() >= deadline;
    auto got = receive_faulty(wait_until_due(deadline));
    if (!got) return got.status();
    if (*got) downlink_.push(std::move(**got), DelayLine::Clock::now());
    if (last) {
      if (auto due = downlink_.pop_due(DelayLine::Clock::now())) return std::optional<Bytes>(std::move(*due));
      return std::optional<Bytes>();
    }
  }
}

Result<std::optional<Bytes>> FaultyDeviceChannel::receive_faulty(std::chrono::milliseconds timeout) {
  if (!plan_.on_receive) return inner_.receive(timeout);
  if (ready_.empty()) {
    auto got = inner_.receive(timeout);
    if (!got) return got.status();
    auto out = *got ? receive_faults_.feed({{}, {}, std::move(**got)}) : receive_faults_.tick();
    for (auto& item : out) ready_.push_back(std::move(item.payload));
  }
  if (ready_.empty()) return std::optional<Bytes>();
  Bytes next = std::move(ready_.front());
  ready_.pop_front();
  return std::optional<Bytes>(std::move(next));
}

std::vector<LinkEvent> FaultyDeviceChannel::poll_events(std::chrono::milliseconds wait) {
  if (!plan_.link.active()) return inner_.poll_events(wait);
  // Back by the time the link's next message is due, for the receive that delivers it.
  return inner_.poll_events(wait_until_due(DelayLine::Clock::now() + wait));
}

FaultStats FaultyDeviceChannel::stats() const {
  return add(send_faults_.stats(), receive_faults_.stats());
}

// ---- server side ----

FaultyServerChannel::FaultyServerChannel(ServerChannel& inner, const FaultPlan& plan)
    : inner_(inner),
      plan_(plan),
      send_faults_(plan, kSendStream),
      receive_faults_(plan, kReceiveStream) {}

Status FaultyServerChannel::send(const std::string& peer, ByteView message) {
  if (!plan_.on_send) return inner_.send(peer, message);
  auto out = send_faults_.feed({peer, {}, Bytes(message.begin(), message.end())});
  for (auto& item : out) EDGEFL_RETURN_IF_ERROR(inner_.send(item.peer, item.payload));
  return Status();
}

Result<std::optional<Inbound>> FaultyServerChannel::receive(std::chrono::milliseconds timeout) {
  if (!plan_.on_receive) return inner_.receive(timeout);
  if (ready_.empty()) {
    auto got = inner_.receive(timeout);
    if (!got) return got.status();
    auto out =
        *got ? receive_faults_.feed({(*got)->peer, (*got)->identity, std::move((*got)->payload)})
             : receive_faults_.tick();
    for (auto& item : out) {
      ready_.push_back(
          Inbound{std::move(item.peer), std::move(item.identity), std::move(item.payload)});
    }
  }
  if (ready_.empty()) return std::optional<Inbound>();
  Inbound next = std::move(ready_.front());
  ready_.pop_front();
  return std::optional<Inbound>(std::move(next));
}

std::vector<LinkEvent> FaultyServerChannel::poll_events(std::chrono::milliseconds wait) {
  return inner_.poll_events(wait);
}

FaultStats FaultyServerChannel::stats() const {
  return add(send_faults_.stats(), receive_faults_.stats());
}

}  // namespace edgefl
