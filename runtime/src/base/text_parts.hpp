// Splitting of the short specs users write (model, layer and data names). Private to the runtime.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

namespace edgefl {

// "a,b,,c" -> {"a", "b", "", "c"}: every part, empty ones included; one part when no separator.
std::vector<std::string_view> split(std::string_view text, char separator);

// "3x3x16" -> {3, 3, 16}; empty when any part is not a positive integer up to `limit`.
std::vector<std::size_t> parse_sizes(std::string_view text, std::size_t limit);

}  // namespace edgefl
