// One zip archive per input. Every member is extracted under a small cap (so a bomb in the
// corpus stops there) and, when it comes out, read as an npy array, as an npz load does.
#include <cstdlib>
#include <vector>

#include "edgefl/data/npy_reader.hpp"
#include "edgefl/data/zip_reader.hpp"
#include "fuzz_entry.hpp"

namespace edgefl::fuzz {

namespace {
constexpr std::size_t kCap = std::size_t{1} << 20;
}  // namespace

int run_one(const uint8_t* data, std::size_t size) {
  Result<ZipArchive> archive =
      ZipArchive::parse(std::vector<uint8_t>(data, data + size), "input.npz");
  if (!archive.ok()) {
    if (archive.status().code() == StatusCode::ok) std::abort();
    return 0;
  }
  for (const ZipMember& member : archive->members()) {
    Result<std::vector<uint8_t>> bytes = archive->extract(member, kCap);
    if (!bytes.ok()) continue;
    if (bytes->size() != member.size || bytes->size() > kCap) std::abort();
    (void)parse_npy(std::move(*bytes), member.name);
  }
  return 0;
}

}  // namespace edgefl::fuzz
