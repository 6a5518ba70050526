// Crash-point sweeps: the workload "dies" at every mutating file-system operation in turn,
// power is lost (unsynced data dropped, or torn: a random prefix of it kept), and recovery
// must yield every acknowledged record exactly once and nothing partial.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "edgefl/store/atomic_file.hpp"
#include "edgefl/store/fault_file_system.hpp"
#include "edgefl/store/outbox.hpp"
#include "edgefl/store/write_ahead_log.hpp"

using namespace edgefl;

namespace {

const std::string kDir = "server";
const std::string kCheckpoint = "server/checkpoint";
const std::string kWalDir = "server/wal";

// Record `id` has a seeded, id-specific length and content, so a truncated or mixed-up
// record cannot pass as another one.
std::vector<std::byte> record_bytes(int id) {
  Rng rng(static_cast<std::uint64_t>(id) + 1000);
  std::vector<std::byte> bytes(4 + rng.below(300));
  std::memcpy(bytes.data(), &id, 4);
  for (std::size_t i = 4; i < bytes.size(); ++i) bytes[i] = static_cast<std::byte>(rng.next_u32());
  return bytes;
}

std::optional<int> parse_record(std::span<const std::byte> bytes) {
  if (bytes.size() < 4) return std::nullopt;
  int id;
  std::memcpy(&id, bytes.data(), 4);
  std::vector<std::byte> expected = record_bytes(id);
  if (!std::equal(bytes.begin(), bytes.end(), expected.begin(), expected.end())) return std::nullopt;
  return id;
}

// The checkpoint: the WAL generation that follows it, then the ids folded into the model.
struct Checkpoint {
  std::uint64_t generation = 0;
  std::vector<int> ids;
};

std::vector<std::byte> encode(const Checkpoint& checkpoint) {
  std::vector<std::byte> bytes(8 + 4 * checkpoint.ids.size());
  std::memcpy(bytes.data(), &checkpoint.generation, 8);
  if (!checkpoint.ids.empty()) std::memcpy(bytes.data() + 8, checkpoint.ids.data(), 4 * checkpoint.ids.size());
  return bytes;
}

Result<Checkpoint> load_checkpoint(FileSystem& fs) {
  Result<std::vector<std::byte>> bytes = read_file(fs, kCheckpoint, 1 << 20);
  if (!bytes) {
    if (bytes.status().code() == StatusCode::not_found) return Checkpoint{};
    return bytes.status();
  }
  Checkpoint checkpoint;
  REQUIRE(bytes->size() >= 8);
  REQUIRE((bytes->size() - 8) % 4 == 0);
  std::memcpy(&checkpoint.generation, bytes->data(), 8);
  checkpoint.ids.resize((bytes->size() - 8) / 4);
  if (!checkpoint.ids.empty()) std::memcpy(checkpoint.ids.data(), bytes->data() + 8, bytes->size() - 8);
  return checkpoint;
}

// A miniature server: recover (checkpoint + WAL replay), then accept records, checkpointing
// and rotating every `round_size` records. `state` is everything counted, in order.
struct MiniServer {
  std::vector<int> state;
  std::optional<WriteAheadLog> wal;
  std::uint64_t generation = 0;

  Status recover(FileSystem& fs) {
    state.clear();
    Result<Checkpoint> checkpoint = load_checkpoint(fs);
    if (!checkpoint) return checkpoint.status();
    state = checkpoint->ids;
    generation = checkpoint->generation;
    Result<WriteAheadLog> opened = WriteAheadLog::open(fs, kWalDir, generation, [&](std::span<const std::byte> r) {
      std::optional<int> id = parse_record(r);
      if (!id) return Status(StatusCode::corrupt, "replayed a record that was never written whole");
      state.push_back(*id);
      return Status();
    });
    if (!opened) return opened.status();
    wal.emplace(std::move(*opened));
    return {};
  }

  // Returns OK only when the record is durable (the point where the server would Ack).
  Status accept(int id) {
    EDGEFL_RETURN_IF_ERROR(wal->append(record_bytes(id)));
    EDGEFL_RETURN_IF_ERROR(wal->sync());
    state.push_back(id);
    return {};
  }

  Status close_round(FileSystem& fs) {
    EDGEFL_RETURN_IF_ERROR(atomic_write_file(fs, kCheckpoint, encode({generation + 1, state})));
    EDGEFL_RETURN_IF_ERROR(wal->rotate(generation + 1));
    ++generation;
    return {};
  }
};

struct Ledger {
  std::vector<int> acked;
  std::set<int> attempted;
};

// Runs until the first error (the process died there).
void run_workload(FaultFileSystem& fs, int first_id, int records, int round_size, Ledger& ledger) {
  MiniServer server;
  if (!fs.create_dir(kDir).ok() || !server.recover(fs).ok()) return;
  for (int i = 0; i < records; ++i) {
    const int id = first_id + i;
    ledger.attempted.insert(id);
    if (!server.accept(id).ok()) return;
    ledger.acked.push_back(id);
    if ((i + 1) % round_size == 0 && !server.close_round(fs).ok()) return;
  }
}

void check_recovery(FaultFileSystem& fs, const Ledger& ledger, bool exact) {
  MiniServer server;
  Status status = server.recover(fs);
  REQUIRE_MESSAGE(status.ok(), status.to_string());
  std::set<int> seen;
  for (int id : server.state) {
    CHECK_MESSAGE(seen.insert(id).second, "record ", id, " counted twice");
    CHECK_MESSAGE(ledger.attempted.count(id) == 1, "record ", id, " was never appended");
  }
  for (int id : ledger.acked) CHECK_MESSAGE(seen.count(id) == 1, "acknowledged record ", id, " lost");
  if (exact) CHECK(server.state == ledger.acked);
  // Whatever the crash left, the log takes new records and they survive another reopen.
  REQUIRE(server.accept(100000).ok());
  std::vector<int> before = server.state;
  MiniServer again;
  REQUIRE(again.recover(fs).ok());
  CHECK(again.state == before);
}

std::uint64_t count_operations(int records, int round_size) {
  FaultFileSystem fs;
  Ledger ledger;
  run_workload(fs, 0, records, round_size, ledger);
  REQUIRE(ledger.acked.size() == static_cast<std::size_t>(records));
  return fs.operation_count();
}

}  // namespace

TEST_CASE("wal crash points: power loss after any operation keeps exactly the synced records") {
  const int records = 14, round_size = 4;
  const std::uint64_t total = count_operations(records, round_size);
  for (std::uint64_t crash_at = 1; crash_at <= total + 1; ++crash_at) {
    CAPTURE(crash_at);
    FaultFileSystem fs;
    Ledger ledger;
    fs.fail_from(crash_at);
    run_workload(fs, 0, records, round_size, ledger);
    fs.crash();
    check_recovery(fs, ledger, /*exact=*/true);
  }
}

TEST_CASE("wal crash points: torn writes never yield a partial or repeated record") {
  const int records = 14, round_size = 4;
  const std::uint64_t total = count_operations(records, round_size);
  for (std::uint64_t seed = 1; seed <= 4; ++seed) {
    for (std::uint64_t crash_at = 1; crash_at <= total + 1; ++crash_at) {
      CAPTURE(seed);
      CAPTURE(crash_at);
      FaultFileSystem fs;
      Ledger ledger;
      fs.fail_from(crash_at);
      run_workload(fs, 0, records, round_size, ledger);
      Rng rng(seed * 7919 + crash_at);
      fs.crash(&rng);
      check_recovery(fs, ledger, /*exact=*/false);
    }
  }
}

TEST_CASE("wal crash points: crashes during recovery itself lose nothing acknowledged") {
  // First life: acknowledge some records, crash with a torn tail. Second life: die at every
  // operation of recovery + more work. Third life must still hold every acknowledged record.
  const int records = 9, round_size = 4;
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    for (std::uint64_t crash_at = 1; crash_at <= 40; ++crash_at) {
      CAPTURE(seed);
      CAPTURE(crash_at);
      FaultFileSystem fs;
      Ledger ledger;
      run_workload(fs, 0, records, round_size, ledger);
      // An unsynced, half-written record on top.
      auto tail = fs.open_appendable(WriteAheadLog::file_path(kWalDir, 2));
      REQUIRE(tail.ok());
      REQUIRE((*tail)->append(record_bytes(555)).ok());
      ledger.attempted.insert(555);
      Rng rng(seed * 31 + crash_at);
      fs.crash(&rng);
      fs.fail_from(fs.operation_count() + crash_at);
      run_workload(fs, 1000, records, round_size, ledger);
      fs.crash(&rng);
      check_recovery(fs, ledger, /*exact=*/false);
    }
  }
}

TEST_CASE("outbox crash points: each entry is whole or absent, acked removals stay removed") {
  // Puts u0..u7; after each odd put, removes the previous (even) entry, as an Ack would.
  struct Outcome {
    std::set<int> put_attempted, put_ok, remove_attempted, remove_ok;
  };
  const int entries = 8;
  auto workload = [&](FaultFileSystem& fs, Outcome& out) {
    Result<Outbox> outbox = Outbox::open(fs, "device/outbox");
    if (!outbox) return;
    for (int i = 0; i < entries; ++i) {
      out.put_attempted.insert(i);
      if (!outbox->put("u" + std::to_string(i), record_bytes(i)).ok()) return;
      out.put_ok.insert(i);
      if (i % 2 == 1) {
        out.remove_attempted.insert(i - 1);
        if (!outbox->remove("u" + std::to_string(i - 1)).ok()) return;
        out.remove_ok.insert(i - 1);
      }
    }
  };
  std::uint64_t total;
  {
    FaultFileSystem fs;
    Outcome out;
    workload(fs, out);
    REQUIRE(out.put_ok.size() == entries);
    total = fs.operation_count();
  }
  for (int torn = 0; torn < 2; ++torn) {
    for (std::uint64_t crash_at = 1; crash_at <= total + 1; ++crash_at) {
      CAPTURE(torn);
      CAPTURE(crash_at);
      FaultFileSystem fs;
      Outcome out;
      fs.fail_from(crash_at);
      workload(fs, out);
      Rng rng(crash_at);
      fs.crash(torn ? &rng : nullptr);
      Result<Outbox> outbox = Outbox::open(fs, "device/outbox");
      REQUIRE(outbox.ok());
      std::set<int> present;
      Result<std::vector<std::string>> ids = outbox->list();
      REQUIRE(ids.ok());
      for (const std::string& id : *ids) {
        Result<std::vector<std::byte>> payload = outbox->read(id);
        REQUIRE_MESSAGE(payload.ok(), payload.status().to_string());
        std::optional<int> parsed = parse_record(*payload);
        REQUIRE(parsed.has_value());
        CHECK(id == "u" + std::to_string(*parsed));
        present.insert(*parsed);
      }
      for (int i : out.remove_ok) CHECK_MESSAGE(present.count(i) == 0, "removed entry ", i, " came back");
      for (int i : out.put_ok) {
        if (out.remove_attempted.count(i) == 0) CHECK_MESSAGE(present.count(i) == 1, "stored entry ", i, " lost");
      }
      for (int i : present) CHECK(out.put_attempted.count(i) == 1);
      Result<std::vector<std::string>> names = fs.list_dir("device/outbox");
      REQUIRE(names.ok());
      for (const std::string& name : *names) {
        CHECK_MESSAGE(name.find(".tmp") == std::string::npos, "stray temp file ", name);
      }
    }
  }
}
