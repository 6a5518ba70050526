// Helpers for the end-to-end tests: fresh temp directories, waiting on state with a deadline,
// a tapping device link that counts (and can hold back) message types, the final parameters
// of a server state directory, and edgefl-server as a real child process.
//
//   TempDir dir;                                            // removed with everything in it
//   REQUIRE(wait_until([&] { return tap->received(MessageType::ack) > 0; }, 10s));
//   std::vector<float> params = read_checkpoint_params(dir.path() + "/server/checkpoint.bin");
//   ServerProcess server(EDGEFL_SERVER_BINARY, {"--rounds", "3", ...}, dir.path() + "/server.log");
//   std::string where = server.wait_endpoint(10s);          // parsed from its "listening on" line
#pragma once

#include <sys/types.h>

#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "edgefl/proto.hpp"
#include "edgefl/transport.hpp"

namespace edgefl::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Polls `done` every few milliseconds until it holds or `limit` passed.
bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds limit);

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

// The integer value of "key": in a flat JSON line (metrics), nullopt if absent.
std::optional<int64_t> json_int_field(const std::string& line, const std::string& key);

// The ids in a device's outbox directory, sorted, read without Outbox::open (which would
// delete the temp file of a write the running agent has in flight).
std::vector<std::string> outbox_entries(const std::string& outbox_dir);

// Every line of a text file.
std::vector<std::string> read_lines(const std::string& path);

// A program run as a child process with stdout+stderr to `log_path`.
class ChildProcess {
 public:
  ChildProcess(const std::string& program, const std::vector<std::string>& args, const std::string& log_path);
  ~ChildProcess();  // SIGKILLs the child if it is still running
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  void kill();  // SIGKILL and reap
  // The exit status once it ended within `limit` (-1: still running; 128+n: killed by signal n).
  int wait(std::chrono::milliseconds limit);
  bool running();
  pid_t pid() const { return pid_; }
  // Waits for "listening on <endpoint>," in the log and returns the endpoint ("" on timeout).
  std::string wait_endpoint(std::chrono::milliseconds limit) const;
  const std::string& log_path() const { return log_path_; }

 private:
  pid_t pid_ = -1;
  int status_ = -1;
  std::string log_path_;
};

}  // namespace edgefl::testing
