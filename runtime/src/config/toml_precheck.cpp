#include "toml_precheck.hpp"

#include <algorithm>

namespace edgefl::config_detail {

namespace {
bool non_ascii(char c) {
  return static_cast<unsigned char>(c) >= 0x80;
}
}  // namespace

bool has_non_ascii(std::string_view text) {
  return std::any_of(text.begin(), text.end(), non_ascii);
}

std::string with_ascii_stand_ins(std::string_view text) {
  std::string copy(text);
  std::replace_if(copy.begin(), copy.end(), non_ascii, '~');
  return copy;
}

}  // namespace edgefl::config_detail
