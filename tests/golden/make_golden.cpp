// Writes the golden buffers of the current schema version into a folder:
//   edgefl_make_golden tests/golden/v1_0
// One <name>.bin per sample message (golden_samples.hpp) plus checkpoint.bin.
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "edgefl/proto/checkpoint.hpp"
#include "edgefl/proto/proto.hpp"
#include "golden_samples.hpp"

namespace {

bool write_file(const std::filesystem::path& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  return static_cast<bool>(out);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <output folder>\n", argv[0]);
    return 2;
  }
  const std::filesystem::path folder = argv[1];
  std::error_code error;
  std::filesystem::create_directories(folder, error);
  auto samples = edgefl::golden::make_samples();
  for (const auto& [name, message] : samples->messages) {
    auto bytes = edgefl::encode_message(message);
    if (!bytes || !write_file(folder / (name + ".bin"), *bytes)) {
      std::fprintf(stderr, "%s: %s\n", name.c_str(), bytes ? "write failed" : bytes.status().to_string().c_str());
      return 1;
    }
    std::printf("%s.bin %zu bytes\n", name.c_str(), bytes->size());
  }
  auto checkpoint = edgefl::encode_checkpoint(samples->checkpoint);
  if (!checkpoint || !write_file(folder / "checkpoint.bin", *checkpoint)) {
    std::fprintf(stderr, "checkpoint: failed\n");
    return 1;
  }
  std::printf("checkpoint.bin %zu bytes\n", checkpoint->size());
  return 0;
}
