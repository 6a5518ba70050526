// An outbox entry file of arbitrary bytes: reading it either fails with a status or yields a
// payload; a payload stored again under another id must read back identical.
#include <cstdlib>
#include <span>
#include <vector>

#include "edgefl/store/outbox.hpp"
#include "fuzz_entry.hpp"
#include "memory_files.hpp"

namespace edgefl::fuzz {

int run_one(const uint8_t* data, std::size_t size) {
  FaultFileSystem fs;
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  put_file(fs, "outbox", "outbox/0001.upd", bytes);

  OutboxOptions options;
  options.max_entry_bytes = 1u << 16;
  Result<Outbox> outbox = Outbox::open(fs, "outbox", options);
  if (!outbox.ok()) std::abort();  // one file in a directory is no reason to refuse the outbox
  Result<std::vector<std::string>> ids = outbox->list();
  if (!ids.ok() || *ids != std::vector<std::string>{"0001"}) std::abort();

  Result<std::vector<std::byte>> payload = outbox->read("0001");
  if (!payload.ok()) {
    if (payload.status().code() == StatusCode::ok) std::abort();
    return 0;
  }
  if (!outbox->put("0002", *payload).ok()) std::abort();
  Result<std::vector<std::byte>> again = outbox->read("0002");
  if (!again.ok() || *again != *payload) std::abort();
  return 0;
}

}  // namespace edgefl::fuzz
