// UpstreamSession: the device side of the protocol with one upstream server, whatever does the
// work behind it (a training device, a relay that joins a server as a device, a gossip peer).
//
//   connect -> Join -> Welcome -> resend the outbox -> Tasks to the client -> the client's
//   results go to the outbox (durable) and out -> Ack -> delete
//
// Meanwhile it sends heartbeats naming what the client works on, resends unacknowledged
// updates every three heartbeat intervals (acks can be lost), re-joins when the server forgot
// the device, and drops the link when the server stays silent for the peer timeout. A Task
// whose update is already in the outbox is answered from there and never reaches the client.
//
//   UpstreamSession session(options, outbox, steady_time_source(), log);
//   Status end = session.run(connect, client, stop);     // reconnects with jittered backoff
//   // or, one link at a time (tests, callers with their own loop):
//   session.open(channel);
//   while (true) if (auto end = session.turn(client, stop); !end || *end) break;
//
// Protocol timers read the injected TimeSource; only run()'s reconnect waits sleep for real.
// A receive() failing with `unavailable` means the link is gone (a simulated outage reports
// it so): the link ends and the session reconnects.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "edgefl/proto/aligned_bytes.hpp"
#include "edgefl/proto/messages.hpp"
#include "edgefl/store/outbox.hpp"
#include "edgefl/base/time_source.hpp"
#include "edgefl/net/transport.hpp"

namespace edgefl::device {

using LogSink = std::function<void(const std::string& line)>;
// Opens a fresh link to the server (a real DeviceTransport, or a decorated one).
using ChannelFactory = std::function<Result<std::unique_ptr<DeviceChannel>>()>;

class UpstreamSession;

// What the session's owner does with the work.
class UpstreamClient {
 public:
  virtual ~UpstreamClient() = default;
  // Once per turn, before the session waits for the server: hand finished results to
  // session.deliver(). An error ends run() (the outbox could not be written).
  virtual Status turn(UpstreamSession& session) = 0;
  // A Task the outbox holds no update for; `message` is its encoded form.
  virtual void on_task(const Task& task, Bytes message) = 0;
  // The task being worked on, for heartbeats (0: idle, so the server resends a lost Task).
  virtual uint64_t working_on() const = 0;
  // True once the client wants to leave: the run ends when it is idle and the outbox empty.
  virtual bool finishing() const = 0;
  // The server welcomed this link (its eligibility rule, protocol 1.6, comes with it).
  virtual void on_welcome(const Welcome&) {}
  // The link ended (the session waits, then reconnects, unless the run is over).
  virtual void on_link_end() {}
  // Why the client must not train now, for heartbeats (kIneligible* bits; 0: eligible).
  virtual uint32_t ineligible() const { return 0; }
  // Decentralised training (1.6): this device's place in the topology; `message` is its encoded
  // form. Clients without a peer mode ignore it.
  virtual void on_peer_assignment(const PeerAssignment& /*assignment*/, Bytes /*message*/) {}
};

struct UpstreamOptions {
  std::string endpoint;                                // for log lines
  Join join;                                           // sent on every new link
  std::chrono::milliseconds heartbeat_interval{1000};  // until a Welcome says otherwise
  double time_scale = 1.0;                             // on the reconnect backoff
  uint64_t backoff_seed = 0;
  // No word from the server for this long (no link, or a silent one): run() ends with
  // `unavailable`, so a device that missed the final Bye does not wait forever. 0: never.
  std::chrono::milliseconds give_up_after{0};
  // The moments of the local data as loaded, sent when a Welcome asks (federated
  // standardisation, docs/standardization.md). Empty: the device has no data to describe.
  std::function<FeatureMoments()> data_statistics;
};

struct UpstreamStats {
  uint64_t updates_acked = 0;
  uint64_t updates_rejected = 0;
  uint64_t updates_resent = 0;
  uint64_t connections = 0;
};

enum class LinkEnd { reconnect, finished, stopped };

class UpstreamSession {
 public:
  UpstreamSession(UpstreamOptions options, Outbox& outbox, TimeSource& clock, LogSink log);

  // Links until the server ends the run or the client finished (ok), `stop` is set
  // (cancelled), or something unrecoverable happens, each named: the outbox failed, the server
  // speaks another protocol version or will not assign work, it refused the device's key
  // (unauthenticated), the endpoint cannot be used (invalid_argument), or the give-up time
  // passed without a word from the server (unavailable).
  Status run(const ChannelFactory& connect, UpstreamClient& client, const std::atomic<bool>& stop);

  // Starts a link on `channel` (which must outlive its turns): sends Join, restarts the timers.
  void open(DeviceChannel& channel);
  // One turn on the open link: the client's turn, one receive of up to 50 ms, the timers.
  // A value when the link ended.
  Result<std::optional<LinkEnd>> turn(UpstreamClient& client, const std::atomic<bool>& stop);
  // True while the server knows the device on the current link (a Welcome arrived and no
  // Reject(unknown_device) since).
  bool joined() const { return joined_; }

  // Stores `update` durably under `update_id`, then sends it on the current link (if any).
  Status deliver(uint64_t update_id, ByteView update);
  // Sends a message that needs no durability (a PeerReport) on the current link; unavailable
  // when there is none or the device has not joined on it.
  Status send(ByteView message);

  const UpstreamStats& stats() const { return stats_; }
  // The outbox entry name of an update: "u" and 20 zero-padded digits (sorts in id order).
  static std::string outbox_id(uint64_t update_id);

 private:
  Result<LinkEnd> serve(DeviceChannel& channel, UpstreamClient& client,
                        const std::atomic<bool>& stop);
  Status send_join();
  // Answers a Welcome's data_statistics_wanted.
  void send_data_statistics();
  void resend_outbox();
  void say_bye(ByeReason reason, const char* text);
  Result<std::optional<LinkEnd>> handle(Bytes raw, UpstreamClient& client);
  Result<std::optional<LinkEnd>> handle_reject(const Reject& reject);
  // The link's security handshake failed: the server refused the key, or one side has none.
  Status check_link_events();
  Status check_give_up() const;
  std::optional<LinkEnd> run_timers(UpstreamClient& client);

  UpstreamOptions options_;
  Outbox* outbox_;
  TimeSource* clock_;
  LogSink log_;
  UpstreamStats stats_;
  std::chrono::milliseconds heartbeat_interval_;
  std::chrono::milliseconds peer_timeout_;
  uint64_t heartbeat_sequence_ = 0;
  AlignedBytes scratch_;

  // The current link.
  DeviceChannel* channel_ = nullptr;
  bool joined_ = false;
  bool welcomed_ = false;  // a Welcome arrived on this link: it works, the backoff restarts
  SteadyTime last_join_{};
  SteadyTime last_heard_{};        // on this link
  SteadyTime last_word_{};         // from the server on any link (the give-up clock)
  SteadyTime last_heartbeat_{};
  SteadyTime last_resend_{};
};

}  // namespace edgefl::device
