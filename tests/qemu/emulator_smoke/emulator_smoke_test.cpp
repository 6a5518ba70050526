// Threads, locks and atomics work in this process: the first things a broken qemu-user set-up
// gets wrong, and what every runtime test (ZeroMQ's I/O thread, pthreadpool) relies on.
#include <doctest/doctest.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

TEST_CASE("a thread starts, writes its result and joins") {
  uint64_t result = 0;
  std::thread worker([&result] {
    for (uint64_t i = 1; i <= 1000; ++i) result += i;
  });
  worker.join();
  CHECK(result == 500500);
}

TEST_CASE("two threads take turns through a mutex and a condition variable") {
  std::mutex mutex;
  std::condition_variable turn_changed;
  int turn = 0;  // 0: main thread's turn, 1: the worker's
  std::vector<int> log;
  constexpr int kRounds = 50;

  std::thread worker([&] {
    for (int i = 0; i < kRounds; ++i) {
      std::unique_lock lock(mutex);
      turn_changed.wait(lock, [&] { return turn == 1; });
      log.push_back(1);
      turn = 0;
      turn_changed.notify_one();
    }
  });
  for (int i = 0; i < kRounds; ++i) {
    std::unique_lock lock(mutex);
    turn_changed.wait(lock, [&] { return turn == 0; });
    log.push_back(0);
    turn = 1;
    turn_changed.notify_one();
  }
  worker.join();

  REQUIRE(log.size() == 2 * kRounds);
  for (size_t i = 0; i < log.size(); ++i) CHECK(log[i] == static_cast<int>(i % 2));
}

TEST_CASE("atomic increments from four threads add up exactly") {
  std::atomic<uint32_t> counter{0};
  constexpr uint32_t kPerThread = 20000;
  std::vector<std::thread> workers;
  for (int t = 0; t < 4; ++t) {
    workers.emplace_back([&counter] {
      for (uint32_t i = 0; i < kPerThread; ++i) counter.fetch_add(1, std::memory_order_relaxed);
    });
  }
  for (auto& worker : workers) worker.join();
  CHECK(counter.load() == 4 * kPerThread);
}
