#include "wal_writer.hpp"

#include <utility>

namespace edgefl::server {

WalWriter::WalWriter(WriteAheadLog wal) : wal_(std::move(wal)), thread_([this] { run(); }) {}

WalWriter::~WalWriter() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  work_.notify_one();
  thread_.join();
}

void WalWriter::submit(std::vector<Record> records, uint64_t through) {
  Group group{std::move(records), through, 0};
  for (const Record& record : group.records) group.bytes += record.size();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    backlog_bytes_ += group.bytes;
    queue_.push_back(std::move(group));
  }
  work_.notify_one();
}

uint64_t WalWriter::durable_through() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return durable_through_;
}

uint64_t WalWriter::backlog_bytes() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return backlog_bytes_;
}

bool WalWriter::busy() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return writing_ || !queue_.empty();
}

uint64_t WalWriter::syncs() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return syncs_;
}

Status WalWriter::wait_idle() {
  std::unique_lock<std::mutex> lock(mutex_);
  done_.wait(lock, [this] { return !writing_ && queue_.empty(); });
  return error_;
}

Status WalWriter::error() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return error_;
}

void WalWriter::run() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    work_.wait(lock, [this] { return stop_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopped, and everything submitted was handled
    // Every group waiting shares this fsync: the longer a sync takes, the more it carries.
    std::vector<Group> groups(std::make_move_iterator(queue_.begin()),
                              std::make_move_iterator(queue_.end()));
    queue_.clear();
    const bool failed = !error_.ok();
    writing_ = true;
    lock.unlock();
    // After a failure nothing more is written: the file may end in a partial record.
    Status written = failed ? Status() : write(groups);
    lock.lock();
    writing_ = false;
    for (const Group& group : groups) backlog_bytes_ -= group.bytes;
    if (!failed && written.ok()) {
      durable_through_ = groups.back().through;
      ++syncs_;
    } else if (!failed) {
      error_ = written;
    }
    done_.notify_all();
  }
}

Status WalWriter::write(const std::vector<Group>& groups) {
  for (const Group& group : groups) {
    for (const Record& record : group.records) {
      EDGEFL_RETURN_IF_ERROR(wal_.append(record).with_context("write-ahead log append"));
    }
  }
  return wal_.sync().with_context("write-ahead log sync");
}

}  // namespace edgefl::server
