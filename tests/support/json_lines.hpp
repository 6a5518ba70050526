// Reading the project's JSON lines (metrics.jsonl, benchmark output: one flat object per line,
// as edgefl::JsonLine writes them) back into key -> value maps.
//
//   for (const JsonFields& round : read_json_lines(state + "/metrics.jsonl")) {
//     CHECK(json_int(round, "answered") == 3);
//   }
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace edgefl::testing {

// Each value as written: numbers, true/false/null and arrays as their text, strings unquoted
// (escapes resolved).
using JsonFields = std::map<std::string, std::string>;

// The fields of one flat JSON object; nullopt for anything else (a cut-off line, nesting).
std::optional<JsonFields> parse_json_line(const std::string& line);

// Every line of a file, in order; a line that does not parse (a torn write) gives an empty map,
// so a check on any of its keys fails.
std::vector<JsonFields> read_json_lines(const std::string& path);

// The integer value of `key`, nullopt if absent or not an integer.
std::optional<int64_t> json_int(const JsonFields& fields, const std::string& key);

}  // namespace edgefl::testing
