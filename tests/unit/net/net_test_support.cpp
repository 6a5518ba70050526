#include "net_test_support.hpp"

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

}  // namespace edgefl::testing
