// Helpers for the end-to-end tests: a tapping device link that counts (and can hold back)
// message types, and what a run leaves behind (the final parameters of a server state
// directory, a device's outbox, log lines). Temp directories, waiting on state and child
// processes: temp_dir.hpp, wait_until.hpp, child_process.hpp.
//
//   LinkTap tap;  options.wrap = [&](uint32_t, auto link) { return tap.wrap(std::move(link)); };
//   REQUIRE(wait_until([&] { return tap.received(MessageType::ack) > 0; }, 10s));
//   std::vector<float> params = read_checkpoint_params(dir.file("server/checkpoint.bin"));
#pragma once

#include <array>
#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <mutex>
#include <string>
#include <vector>

#include "edgefl/proto/proto.hpp"
#include "edgefl/net/transport.hpp"

namespace edgefl::testing {

// Counts the messages, by type, that pass a device link both ways (`sent` counts attempts,
// swallowed or not). Filters make the link lose chosen messages (e.g. every Ack).
class LinkTap {
 public:
  // true: the device never sees this message.
  using Filter = std::function<bool(const DecodedMessage& message)>;

  uint64_t sent(MessageType type) const { return sent_[index(type)].load(); }
  uint64_t received(MessageType type) const { return received_[index(type)].load(); }
  uint64_t swallowed(MessageType type) const { return swallowed_[index(type)].load(); }
  void set_filter(Filter filter);
  // The same for messages the device sends: a swallowed send reports success to the device.
  void set_send_filter(Filter filter);
  uint64_t swallowed_sends(MessageType type) const { return swallowed_sends_[index(type)].load(); }
  // The received messages of one type (decoded again by the caller), in order.
  std::vector<Bytes> received_messages(MessageType type) const;

  // Wraps `inner` so that its traffic is counted here; the tap must outlive the channel.
  std::unique_ptr<DeviceChannel> wrap(std::unique_ptr<DeviceChannel> inner);

 private:
  friend class TappedChannel;
  static std::size_t index(MessageType type) { return static_cast<std::size_t>(type) % kTypes; }
  bool note_sent(ByteView bytes);  // false: swallow it
  bool note_received(const Bytes& bytes);  // false: swallow it

  static constexpr std::size_t kTypes = 16;
  std::array<std::atomic<uint64_t>, kTypes> sent_{};
  std::array<std::atomic<uint64_t>, kTypes> received_{};
  std::array<std::atomic<uint64_t>, kTypes> swallowed_{};
  std::array<std::atomic<uint64_t>, kTypes> swallowed_sends_{};
  mutable std::mutex mutex_;
  Filter filter_;
  Filter send_filter_;
  std::vector<std::pair<MessageType, Bytes>> log_;
};

// The type of an encoded message (decoded and verified), or nullopt if it does not decode.
std::optional<MessageType> type_of(ByteView bytes);

// The global parameters saved in a checkpoint file, as raw float bytes (for bytewise checks).
std::vector<float> read_checkpoint_params(const std::string& path);

// The ids in a device's outbox directory, sorted, read without Outbox::open (which would
// delete the temp file of a write the running agent has in flight).
std::vector<std::string> outbox_entries(const std::string& outbox_dir);


}  // namespace edgefl::testing
