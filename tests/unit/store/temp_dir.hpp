// A fresh directory under the build tree for one test, deleted afterwards.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>
#include <cstddef>
#include <string_view>

namespace edgefl::test {

class TempDir {
 public:
  TempDir() {
    std::string pattern = std::string(EDGEFL_BINARY_DIR) + "/tmp-store-XXXXXX";
    std::filesystem::create_directories(std::string(EDGEFL_BINARY_DIR));
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    path_ = ::mkdtemp(buffer.data());
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

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
