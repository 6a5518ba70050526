// Pipelined group commit: the log syncs on its own thread while the coordinator keeps
// receiving, and no Ack leaves before the fsync that makes its update durable. The disk is a
// file system whose log fsyncs wait at a gate the test opens.
#include <doctest/doctest.h>

#include <condition_variable>
#include <mutex>

#include "edgefl/store/write_ahead_log.hpp"
#include "memory_device.hpp"

namespace edgefl::testing {
namespace {

using namespace std::chrono_literals;

// Forwards to `inner`; while held, fsyncs of files under `held_dir` wait until released (or,
// so that a server that syncs inline cannot hang the test, until a few seconds pass: that is
// recorded as a hold that timed out).
class HeldSyncFileSystem final : public FileSystem {
 public:
  HeldSyncFileSystem(FileSystem& inner, std::string held_dir)
      : inner_(&inner), held_dir_(std::move(held_dir)) {}

  void hold() {
    std::lock_guard<std::mutex> lock(mutex_);
    held_ = true;
  }
  void release() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      held_ = false;
    }
    changed_.notify_all();
  }
  // Waits (real time) until a sync of the held directory is waiting at the gate.
  bool sync_waiting() {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, 10s, [this] { return waiting_ > 0; });
  }
  uint64_t completed_syncs() {
    std::lock_guard<std::mutex> lock(mutex_);
    return completed_;
  }
  bool hold_timed_out() {
    std::lock_guard<std::mutex> lock(mutex_);
    return timed_out_;
  }

  Result<std::unique_ptr<WritableFile>> new_writable(const std::string& path) override {
    return wrap(path, inner_->new_writable(path));
  }
  Result<std::unique_ptr<WritableFile>> open_appendable(const std::string& path) override {
    return wrap(path, inner_->open_appendable(path));
  }
  Result<std::unique_ptr<SequentialFile>> open_sequential(const std::string& path) override {
    return inner_->open_sequential(path);
  }
  Result<std::uint64_t> file_size(const std::string& path) override {
    return inner_->file_size(path);
  }
  Status truncate(const std::string& path, std::uint64_t size) override {
    return inner_->truncate(path, size);
  }
  Status rename(const std::string& from, const std::string& to) override {
    return inner_->rename(from, to);
  }
  Status remove(const std::string& path) override { return inner_->remove(path); }
  Status create_dir(const std::string& path) override { return inner_->create_dir(path); }
  Status sync_dir(const std::string& path) override { return inner_->sync_dir(path); }
  Result<std::vector<std::string>> list_dir(const std::string& path) override {
    return inner_->list_dir(path);
  }

 private:
  class File final : public WritableFile {
   public:
    File(HeldSyncFileSystem* fs, std::unique_ptr<WritableFile> inner, bool gated)
        : fs_(fs), inner_(std::move(inner)), gated_(gated) {}
    Status append(std::span<const std::byte> data) override { return inner_->append(data); }
    Status sync() override {
      if (!gated_) return inner_->sync();
      fs_->gate();
      Status synced = inner_->sync();
      fs_->synced();
      return synced;
    }
    Status close() override { return inner_->close(); }

   private:
    HeldSyncFileSystem* fs_;
    std::unique_ptr<WritableFile> inner_;
    bool gated_;
  };

  Result<std::unique_ptr<WritableFile>> wrap(const std::string& path,
                                             Result<std::unique_ptr<WritableFile>> file) {
    if (!file) return file.status();
    const bool gated = path.compare(0, held_dir_.size(), held_dir_) == 0;
    return std::unique_ptr<WritableFile>(std::make_unique<File>(this, std::move(*file), gated));
  }
  void gate() {
    std::unique_lock<std::mutex> lock(mutex_);
    ++waiting_;
    changed_.notify_all();
    if (!changed_.wait_for(lock, 5s, [this] { return !held_; })) timed_out_ = true;
    --waiting_;
  }
  void synced() {
    std::lock_guard<std::mutex> lock(mutex_);
    ++completed_;
  }

  FileSystem* inner_;
  std::string held_dir_;
  std::mutex mutex_;
  std::condition_variable changed_;
  bool held_ = false;
  int waiting_ = 0;
  uint64_t completed_ = 0;
  bool timed_out_ = false;
};

const std::vector<float> kDelta{0.1f, -0.2f, 0.3f, 0.5f};  // linear:4-1 has 4 parameters

TEST_CASE(
    "pipelined commit: receiving goes on while a batch syncs, and no Ack leaves before its fsync") {
  MemoryServer server;
  HeldSyncFileSystem disk(server.fs, "/state/wal");
  server::ServerConfig config = MemoryServer::config();
  config.min_devices = 3;
  config.heartbeat_s = 1000;  // liveness never expires within the test
  auto created = server::Coordinator::create(
      config, disk, [&server](const std::string& line) { server.log.push_back(line); },
      server.clock);
  REQUIRE(created.ok());
  server.coordinator = std::move(*created);
  std::vector<std::unique_ptr<MemoryDevice>> devices;
  std::vector<Task> tasks;
  for (int i = 0; i < 3; ++i) {
    devices.push_back(std::make_unique<MemoryDevice>(server.net, "dev-" + std::to_string(i)));
    devices.back()->join();
  }
  server.deliver();  // joins handled, round 1 opened, tasks sent
  for (auto& device : devices) tasks.push_back(device->tasks().at(0));
  const uint64_t syncs_before = disk.completed_syncs();
  auto poll_once = [&server] { REQUIRE(server.coordinator->poll(server.net.server(), 10ms).ok()); };

  disk.hold();
  devices[0]->answer(tasks[0], kDelta);
  poll_once();  // handled and handed to the log, whose fsync now waits at the gate
  REQUIRE(disk.sync_waiting());

  // While that fsync is held, the next poll still receives: an update, folded and staged
  // behind the held batch, and a heartbeat, answered.
  devices[1]->answer(tasks[1], kDelta);
  devices[2]->heartbeat(tasks[2].task_id);
  poll_once();
  CHECK(devices[2]->take<Heartbeat>().size() == 1);
  CHECK(server.coordinator->accepted().count({"dev-1", 1}) == 1);
  CHECK(disk.completed_syncs() == syncs_before);
  CHECK(devices[0]->take<Ack>().empty());  // its update is not on disk yet
  CHECK(devices[1]->take<Ack>().empty());

  disk.release();
  poll_once();  // nothing to receive: waits for the log, then the Acks leave
  CHECK(disk.completed_syncs() > syncs_before);
  for (int i = 0; i < 2; ++i) {
    std::vector<Ack> acks = devices[i]->take<Ack>();
    REQUIRE(acks.size() == 1);
    CHECK(acks[0].update_id == tasks[i].task_id);
    CHECK(acks[0].status == AckStatus::accepted);
  }
  CHECK_FALSE(disk.hold_timed_out());  // no fsync was waited for inline while held

  // The round closes as without a slow disk, once the last device answers.
  devices[2]->answer(tasks[2], kDelta);
  server.deliver();
  CHECK(devices[2]->take<Ack>().size() == 1);
  REQUIRE(server.coordinator->rounds_closed() == 1);
  const server::RoundMetrics& round = server.coordinator->history().back();
  CHECK(round.wal_syncs <= round.update_batches);
  CHECK(round.update_batches == 3);
}

}  // namespace
}  // namespace edgefl::testing
