// The store tests' records as text: bytes_of("abc") to write, text_of(bytes) to compare.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace edgefl::test {

inline std::vector<std::byte> bytes_of(std::string_view text) {
  std::vector<std::byte> out(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) out[i] = static_cast<std::byte>(text[i]);
  return out;
}

inline std::string text_of(const std::vector<std::byte>& bytes) {
  std::string out(bytes.size(), '\0');
  for (std::size_t i = 0; i < bytes.size(); ++i) out[i] = static_cast<char>(bytes[i]);
  return out;
}

}  // namespace edgefl::test
