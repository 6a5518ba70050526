// MemoryFileSystem: the operations an outbox and atomic_write_file use, shared by threads.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include "byte_text.hpp"
#include "edgefl/store/atomic_file.hpp"
#include "edgefl/store/memory_file_system.hpp"
#include "edgefl/store/outbox.hpp"

using namespace edgefl;
using edgefl::test::bytes_of;
using edgefl::test::text_of;

namespace {
std::vector<std::string> sorted(std::vector<std::string> names) {
  std::sort(names.begin(), names.end());
  return names;
}
}  // namespace

TEST_CASE("memory file system: files, directories, rename and remove as on a disk") {
  MemoryFileSystem fs;
  CHECK(fs.new_writable("nodir/a").status().code() == StatusCode::not_found);
  REQUIRE(fs.create_dir("root/sub/deeper").ok());
  {
    auto file = fs.new_writable("root/sub/a");
    REQUIRE(file.ok());
    REQUIRE((*file)->append(bytes_of("hello")).ok());
    REQUIRE((*file)->sync().ok());
  }
  auto appending = fs.open_appendable("root/sub/a");
  REQUIRE(appending.ok());
  REQUIRE((*appending)->append(bytes_of(" world")).ok());
  CHECK(*fs.file_size("root/sub/a") == 11);
  CHECK(sorted(*fs.list_dir("root/sub")) == std::vector<std::string>{"a", "deeper"});
  CHECK(*fs.list_dir("root") == std::vector<std::string>{"sub"});
  REQUIRE(fs.rename("root/sub/a", "root/b").ok());
  CHECK(fs.file_size("root/sub/a").status().code() == StatusCode::not_found);
  CHECK(text_of(*read_file(fs, "root/b", 100)) == "hello world");
  REQUIRE(fs.truncate("root/b", 5).ok());
  CHECK(text_of(*read_file(fs, "root/b", 100)) == "hello");
  CHECK(fs.remove("root/sub").code() == StatusCode::failed_precondition);  // not empty
  REQUIRE(fs.remove("root/sub/deeper").ok());
  REQUIRE(fs.remove("root/sub").ok());
  REQUIRE(fs.remove("root/b").ok());
  CHECK(fs.list_dir("root")->empty());
  CHECK(fs.remove("root/b").code() == StatusCode::not_found);
  CHECK(fs.stored_bytes() == 0);
}

TEST_CASE("memory file system: many threads keep outboxes and atomic files side by side") {
  MemoryFileSystem fs;
  std::vector<std::thread> threads;
  std::vector<Status> results(8);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&fs, &results, t] {
      const std::string dir = "sim/device-" + std::to_string(t);
      Status status = fs.create_dir(dir);
      Result<Outbox> outbox = Outbox::open(fs, dir + "/outbox");
      if (!outbox) status = outbox.status();
      for (int i = 0; status.ok() && i < 50; ++i) {
        const std::string id = "r" + std::to_string(1000 + i);
        status = outbox->put(id, bytes_of("update " + std::to_string(t) + "/" + std::to_string(i)));
        if (status.ok())
          status = atomic_write_file(fs, dir + "/boot_counter", bytes_of(std::to_string(i)));
        if (status.ok() && i % 2 == 0) status = outbox->remove(id);
      }
      results[t] = status;
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int t = 0; t < 8; ++t) {
    CAPTURE(t);
    REQUIRE(results[t].ok());
    Result<Outbox> outbox = Outbox::open(fs, "sim/device-" + std::to_string(t) + "/outbox");
    REQUIRE(outbox.ok());
    CHECK(outbox->list()->size() == 25);
    CHECK(text_of(*outbox->read("r1049")) == "update " + std::to_string(t) + "/49");
    CHECK(text_of(*read_file(fs, "sim/device-" + std::to_string(t) + "/boot_counter", 16)) == "49");
  }
}
