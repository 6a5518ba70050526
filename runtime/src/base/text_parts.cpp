#include "text_parts.hpp"

#include <charconv>

namespace edgefl {

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  while (true) {
    const std::size_t at = text.find(separator);
    parts.push_back(text.substr(0, at));
    if (at == std::string_view::npos) return parts;
    text.remove_prefix(at + 1);
  }
}

std::vector<std::size_t> parse_sizes(std::string_view text, std::size_t limit) {
  std::vector<std::size_t> out;
  for (std::string_view part : split(text, 'x')) {
    std::size_t value = 0;
    auto [end, error] = std::from_chars(part.data(), part.data() + part.size(), value);
    if (error != std::errc() || end != part.data() + part.size() || value == 0 || value > limit)
      return {};
    out.push_back(value);
  }
  return out;
}

}  // namespace edgefl
