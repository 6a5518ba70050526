#include "upstream_session.hpp"

#include <cinttypes>
#include <cstdio>

#include "edgefl/net/backoff.hpp"
#include "edgefl/proto/proto.hpp"
#include "stoppable_sleep.hpp"

namespace edgefl::device {

namespace {

using std::chrono::milliseconds;

// Rejections after which the update can never be accepted: delete it from the outbox.
bool final_rejection(StatusCode code) {
  return code != StatusCode::unavailable && code != StatusCode::resource_exhausted &&
         code != StatusCode::timeout && code != StatusCode::unknown_device;
}

ByteView as_message(const std::vector<std::byte>& bytes) {
  return ByteView(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

}  // namespace

UpstreamSession::UpstreamSession(UpstreamOptions options, Outbox& outbox, TimeSource& clock,
                                 LogSink log)
    : options_(std::move(options)),
      outbox_(&outbox),
      clock_(&clock),
      log_(std::move(log)),
      heartbeat_interval_(options_.heartbeat_interval),
      peer_timeout_(3 * options_.heartbeat_interval),
      last_word_(clock.now()) {}

std::string UpstreamSession::outbox_id(uint64_t update_id) {
  char text[32];
  std::snprintf(text, sizeof text, "u%020" PRIu64, update_id);
  return text;
}

Status UpstreamSession::run(const ChannelFactory& connect, UpstreamClient& client,
                            const std::atomic<bool>& stop) {
  SocketPolicy policy;
  policy.time_scale = options_.time_scale;
  Backoff backoff(policy, options_.backoff_seed);
  while (!stop.load()) {
    EDGEFL_RETURN_IF_ERROR(check_give_up());
    Result<std::unique_ptr<DeviceChannel>> channel = connect();
    if (!channel) {
      // A malformed or unusable endpoint never starts working; anything else may.
      if (channel.status().code() == StatusCode::invalid_argument) {
        return channel.status().with_context("cannot use endpoint '" + options_.endpoint + "'");
      }
      log_("warning: cannot open a link to " + options_.endpoint + ": " +
           channel.status().to_string());
      if (!sleep_unless_stopped(backoff.next(), stop)) break;
      continue;
    }
    ++stats_.connections;
    Result<LinkEnd> end = serve(**channel, client, stop);
    client.on_link_end();
    if (!end) return end.status();
    // The backoff grows only while the server cannot be reached; a link that was welcomed
    // proves the path works, so the next reconnect starts from the shortest wait again.
    if (welcomed_) backoff.reset();
    if (*end == LinkEnd::finished) return Status();
    if (*end == LinkEnd::stopped) break;
    channel->reset();  // drop the link (and anything queued on it) before waiting
    if (!sleep_unless_stopped(backoff.next(), stop)) break;
  }
  return make_status(StatusCode::cancelled, "stopped");
}

Result<LinkEnd> UpstreamSession::serve(DeviceChannel& channel, UpstreamClient& client,
                                       const std::atomic<bool>& stop) {
  open(channel);
  Result<std::optional<LinkEnd>> end = std::optional<LinkEnd>();
  while (end.ok() && !end->has_value()) end = turn(client, stop);
  channel_ = nullptr;  // the caller drops the channel next
  if (!end) return end.status();
  return **end;
}

void UpstreamSession::open(DeviceChannel& channel) {
  channel_ = &channel;
  joined_ = false;
  welcomed_ = false;
  const SteadyTime now = clock_->now();
  last_join_ = last_heard_ = last_heartbeat_ = last_resend_ = now;
  Status sent = send_join();
  if (!sent.ok()) log_("warning: join not sent: " + sent.to_string());
}

Status UpstreamSession::send_join() {
  Result<std::vector<uint8_t>> bytes = encode_message(options_.join);
  if (!bytes) return bytes.status();
  return channel_->send(*bytes);
}

void UpstreamSession::send_data_statistics() {
  if (!options_.data_statistics) {
    log_("warning: the server asked for data statistics; this device holds no data to describe");
    return;
  }
  Result<std::vector<uint8_t>> bytes = encode_message(DataStatistics{options_.data_statistics()});
  Status sent = bytes ? channel_->send(*bytes) : bytes.status();
  if (!sent.ok()) log_("warning: data statistics not sent: " + sent.to_string());
}

void UpstreamSession::resend_outbox() {
  Result<std::vector<std::string>> pending = outbox_->list();
  if (!pending) {
    log_("warning: outbox: " + pending.status().to_string());
    return;
  }
  for (const std::string& id : *pending) {
    Result<std::vector<std::byte>> bytes = outbox_->read(id);
    if (!bytes) {
      log_("warning: outbox entry " + id + ": " + bytes.status().to_string());
      continue;
    }
    if (channel_->send(as_message(*bytes)).ok()) ++stats_.updates_resent;
  }
}

Status UpstreamSession::deliver(uint64_t update_id, ByteView update) {
  // Durable before it leaves the device: an update survives a crash or reboot from here on.
  Status stored = outbox_->put(outbox_id(update_id), std::as_bytes(update));
  if (!stored.ok() && stored.code() != StatusCode::duplicate) return stored.with_context("outbox");
  if (channel_ != nullptr) {
    (void)channel_->send(update);
    last_resend_ = clock_->now();
  }
  return Status();
}

void UpstreamSession::say_bye(ByeReason reason, const char* text) {
  // A courtesy (docs/protocol.md §4): nothing relies on its arrival, so a failure is ignored.
  Result<std::vector<uint8_t>> bye = encode_message(Bye{reason, text});
  if (bye) (void)channel_->send(*bye);
}

Status UpstreamSession::send(ByteView message) {
  if (channel_ == nullptr || !joined_) {
    return make_status(StatusCode::unavailable, "no joined link to the server");
  }
  return channel_->send(message);
}

Result<std::optional<LinkEnd>> UpstreamSession::turn(UpstreamClient& client,
                                                     const std::atomic<bool>& stop) {
  if (stop.load()) {
    say_bye(ByeReason::shutdown, "device stopping");
    return std::optional<LinkEnd>(LinkEnd::stopped);
  }
  EDGEFL_RETURN_IF_ERROR(client.turn(*this));
  EDGEFL_RETURN_IF_ERROR(check_give_up());

  Result<std::optional<Bytes>> received = channel_->receive(milliseconds(50));
  if (!received) {
    if (received.status().code() == StatusCode::unavailable)
      return std::optional<LinkEnd>(LinkEnd::reconnect);
    log_("warning: receive: " + received.status().to_string());
  } else if (received->has_value()) {
    Result<std::optional<LinkEnd>> end = handle(std::move(**received), client);
    if (!end || end->has_value()) return end;
  }

  EDGEFL_RETURN_IF_ERROR(check_link_events());
  if (client.finishing() && client.working_on() == 0) {
    Result<std::vector<std::string>> pending = outbox_->list();
    if (pending.ok() && pending->empty()) {
      say_bye(ByeReason::shutdown, "device did its tasks");
      return std::optional<LinkEnd>(LinkEnd::finished);
    }
  }
  return run_timers(client);
}

Result<std::optional<LinkEnd>> UpstreamSession::handle(Bytes raw, UpstreamClient& client) {
  const SteadyTime now = clock_->now();
  Result<DecodedMessage> decoded = decode_message(raw, scratch_);
  if (!decoded) {
    log_("warning: dropped a message from the server: " + decoded.status().to_string());
    return std::optional<LinkEnd>();
  }
  last_heard_ = now;
  last_word_ = now;
  const Message& message = decoded->message;
  if (const Welcome* welcome = std::get_if<Welcome>(&message)) {
    joined_ = true;
    welcomed_ = true;
    heartbeat_interval_ = milliseconds(welcome->heartbeat_interval_ms);
    peer_timeout_ = milliseconds(welcome->peer_timeout_ms);
    if (welcome->data_statistics_wanted) send_data_statistics();
    client.on_welcome(*welcome);
    last_heartbeat_ = now - heartbeat_interval_;  // heartbeat at once: the server learns our eligibility
    resend_outbox();
    last_resend_ = now;
  } else if (const Task* task = std::get_if<Task>(&message)) {
    Result<std::vector<std::byte>> stored = outbox_->read(outbox_id(task->task_id));
    if (stored.ok()) {
      // Done before (maybe before a reboot): send that update, never do the work twice.
      (void)channel_->send(as_message(*stored));
    } else {
      client.on_task(*task, std::move(raw));
    }
  } else if (const Ack* ack = std::get_if<Ack>(&message)) {
    Status removed = outbox_->remove(outbox_id(ack->update_id));
    if (!removed.ok()) return removed.with_context("outbox");
    ++stats_.updates_acked;
  } else if (const PeerAssignment* assignment = std::get_if<PeerAssignment>(&message)) {
    client.on_peer_assignment(*assignment, std::move(raw));
  } else if (const Reject* reject = std::get_if<Reject>(&message)) {
    return handle_reject(*reject);
  } else if (const Bye* bye = std::get_if<Bye>(&message)) {
    if (bye->reason == ByeReason::finished) {
      // The confirmation lets the server end its farewell now: every Ack sent before this Bye
      // has arrived.
      say_bye(ByeReason::finished, "device heard the end of the run");
      return std::optional<LinkEnd>(LinkEnd::finished);
    }
    return std::optional<LinkEnd>(LinkEnd::reconnect);
  }
  return std::optional<LinkEnd>();
}

Result<std::optional<LinkEnd>> UpstreamSession::handle_reject(const Reject& reject) {
  log_("warning: server rejected " +
       (reject.update_id ? "update " + std::to_string(*reject.update_id)
                         : std::string("a message")) +
       ": " + std::string(status_code_name(reject.reason)) + ": " + reject.message);
  if (reject.reason == StatusCode::version_mismatch) {
    return make_status(StatusCode::version_mismatch, "the server speaks another protocol version");
  }
  if (reject.reason == StatusCode::resource_exhausted && !reject.update_id) {
    return make_status(StatusCode::resource_exhausted,
                       "the server will not assign work: " + reject.message);
  }
  // A Join refused for what the device is (its id, its declared sizes, a codec the run needs,
  // its key) is refused again every time: stop and say why instead of knocking forever.
  const bool refused_join = !reject.update_id && !welcomed_ &&
                            (reject.reason == StatusCode::invalid_argument || reject.reason == StatusCode::out_of_range ||
                             reject.reason == StatusCode::failed_precondition ||
                             reject.reason == StatusCode::unauthenticated);
  if (refused_join) {
    return make_status(reject.reason, "the server refused this device's Join: " + reject.message);
  }
  if (reject.reason == StatusCode::unknown_device) {
    joined_ = false;
    (void)send_join();
    last_join_ = clock_->now();
  }
  if (reject.update_id && final_rejection(reject.reason)) {
    ++stats_.updates_rejected;
    Status removed = outbox_->remove(outbox_id(*reject.update_id));
    if (!removed.ok()) return removed.with_context("outbox");
  }
  return std::optional<LinkEnd>();
}

Status UpstreamSession::check_link_events() {
  for (const LinkEvent& event : channel_->poll_events(milliseconds(0))) {
    if (event.kind == LinkEvent::Kind::handshake_failed_auth) {
      return make_status(StatusCode::unauthenticated,
                         "the server at " + options_.endpoint +
                             " refused this device's key: add its public key to the server's allowed keys");
    }
    if (event.kind == LinkEvent::Kind::handshake_failed_protocol) {
      return make_status(StatusCode::unauthenticated,
                         "the server at " + options_.endpoint +
                             " speaks another security mechanism: CURVE keys on one side only?");
    }
  }
  return Status();
}

Status UpstreamSession::check_give_up() const {
  if (options_.give_up_after.count() == 0) return Status();
  const auto silent = std::chrono::duration_cast<milliseconds>(clock_->now() - last_word_);
  if (silent < options_.give_up_after) return Status();
  return make_status(StatusCode::unavailable, "no word from the server at " + options_.endpoint + " for " +
                                                  std::to_string(silent.count() / 1000) + " s: giving up");
}

std::optional<LinkEnd> UpstreamSession::run_timers(UpstreamClient& client) {
  const SteadyTime now = clock_->now();
  if (!joined_ && now - last_join_ >= heartbeat_interval_) {
    (void)send_join();
    last_join_ = now;
  }
  if (joined_ && now - last_heartbeat_ >= heartbeat_interval_) {
    Result<std::vector<uint8_t>> bytes =
        encode_message(Heartbeat{++heartbeat_sequence_, 0, client.working_on(), client.ineligible()});
    if (bytes) (void)channel_->send(*bytes);
    last_heartbeat_ = now;
  }
  if (joined_ && now - last_resend_ >= 3 * heartbeat_interval_) {
    resend_outbox();  // acks can be lost too; the server answers a resend with Ack(duplicate)
    last_resend_ = now;
  }
  if (now - last_heard_ >= peer_timeout_) {
    log_("warning: " + options_.join.device_id + ": no word from the server for " +
         std::to_string(std::chrono::duration_cast<milliseconds>(now - last_heard_).count()) +
         " ms; reconnecting");
    return LinkEnd::reconnect;
  }
  return std::nullopt;
}

}  // namespace edgefl::device
