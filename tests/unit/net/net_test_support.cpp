#include "net_test_support.hpp"

#include <unistd.h>

#include <atomic>

namespace edgefl::testing {

SocketPolicy fast_policy() {
  SocketPolicy policy;
  policy.time_scale = 0.1;
  return policy;
}

Bytes bytes_of(const std::string& text) {
  return Bytes(text.begin(), text.end());
}
std::string text_of(const Bytes& bytes) {
  return std::string(bytes.begin(), bytes.end());
}

TempDir::TempDir() {
  static std::atomic<int> counter{0};
  path_ = std::filesystem::temp_directory_path() /
          ("edgefl-net-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  std::filesystem::remove_all(path_);
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

}  // namespace edgefl::testing
