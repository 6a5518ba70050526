// SharedMessages: byte-identical messages held once. A round's Task reaches every device of a
// simulation as the same bytes; while a thousand devices wait for a pool thread, each would
// otherwise hold its own copy (0.94 MB each for mlp:784-256-128-10).
//
//   std::shared_ptr<const Bytes> held = shared.share(std::move(task_message));
//   ...                                   // an equal message shared later gets the same bytes
//
// Equal means equal bytes (compared in full); the bytes live while anyone holds them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace edgefl::device {

class SharedMessages {
 public:
  using Bytes = std::vector<uint8_t>;

  std::shared_ptr<const Bytes> share(Bytes message);
  // Distinct messages held by someone now.
  std::size_t live_count();

 private:
  void forget_expired();

  std::mutex mutex_;
  std::unordered_multimap<uint64_t, std::weak_ptr<const Bytes>> held_;
  std::size_t shares_since_sweep_ = 0;
};

}  // namespace edgefl::device
