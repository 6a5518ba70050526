// WalWriter: the write-ahead log's appends and fsyncs on a thread of their own, so the server
// keeps receiving, decoding and folding updates while an earlier batch syncs (pipelined group
// commit).
//
//   WalWriter writer(std::move(wal));
//   writer.submit(std::move(records), last_sequence);   // one arrival batch: one group
//   ...                                                  // keep serving
//   if (writer.durable_through() >= my_sequence) ...     // only now send that update's Ack
//   EDGEFL_RETURN_IF_ERROR(writer.wait_idle());          // before a checkpoint or rotate
//   writer.log().rotate(next);                           // the log itself: only while idle
//
// Records carry sequence numbers given by the caller, increasing. Groups are written in the
// order submitted; when the thread wakes it takes every group waiting, appends them and
// fsyncs once, then publishes the last sequence of the last group as durable. A failed append
// or sync stops it for good: error() says why, and nothing submitted after becomes durable.
// submit, wait_idle and log are for one thread (the coordinator's); the reads are for any.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "edgefl/base/status.hpp"
#include "edgefl/store/write_ahead_log.hpp"

namespace edgefl::server {

class WalWriter {
 public:
  using Record = std::vector<std::byte>;

  explicit WalWriter(WriteAheadLog wal);
  // Writes and syncs whatever was submitted, then stops the thread.
  ~WalWriter();
  WalWriter(const WalWriter&) = delete;
  WalWriter& operator=(const WalWriter&) = delete;

  // Hands a group to the thread; `through` is the sequence of its last record.
  void submit(std::vector<Record> records, uint64_t through);
  // The sequence through which every record is on disk (0 before the first sync).
  uint64_t durable_through() const;
  // Bytes submitted and not yet written and synced.
  uint64_t backlog_bytes() const;
  // Whether a group is waiting or being written.
  bool busy() const;
  // fsyncs done so far.
  uint64_t syncs() const;
  // Blocks until the thread has nothing left to do; the error that stopped it, if one did.
  Status wait_idle();
  Status error() const;
  // The log. Call only while idle (after wait_idle, before the next submit).
  WriteAheadLog& log() { return wal_; }
  const WriteAheadLog& log() const { return wal_; }

 private:
  struct Group {
    std::vector<Record> records;
    uint64_t through = 0;
    uint64_t bytes = 0;
  };
  void run();
  // Appends the groups and syncs once (on the thread, without the lock).
  Status write(const std::vector<Group>& groups);

  WriteAheadLog wal_;
  mutable std::mutex mutex_;
  std::condition_variable work_;  // a group arrived, or stop
  std::condition_variable done_;  // a write finished
  std::deque<Group> queue_;
  bool writing_ = false;
  bool stop_ = false;
  uint64_t durable_through_ = 0;
  uint64_t backlog_bytes_ = 0;
  uint64_t syncs_ = 0;
  Status error_;
  std::thread thread_;  // last: starts after every member above exists
};

}  // namespace edgefl::server
