#include "json_lines.hpp"

#include <charconv>
#include <fstream>

namespace edgefl::testing {

namespace {

// Reads a JSON string starting at text[at] == '"'; leaves `at` after the closing quote.
std::optional<std::string> read_string(const std::string& text, std::size_t& at) {
  std::string out;
  for (++at; at < text.size(); ++at) {
    const char c = text[at];
    if (c == '"') {
      ++at;
      return out;
    }
    if (c != '\\') {
      out += c;
      continue;
    }
    if (++at == text.size()) return std::nullopt;
    switch (text[at]) {
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'u': {  // \u00XX: the control characters JsonLine escapes
        if (at + 4 >= text.size()) return std::nullopt;
        unsigned code = 0;
        const char* begin = text.data() + at + 1;
        if (std::from_chars(begin, begin + 4, code, 16).ptr != begin + 4 || code > 0x7f) return std::nullopt;
        out += static_cast<char>(code);
        at += 4;
        break;
      }
      default: out += text[at];  // \" \\ \/
    }
  }
  return std::nullopt;
}

// A number, literal or flat array, as its text; leaves `at` on the ',' or '}' after it.
std::optional<std::string> read_bare(const std::string& text, std::size_t& at) {
  const std::size_t begin = at;
  if (text[at] == '[') {
    const std::size_t close = text.find(']', at);
    if (close == std::string::npos) return std::nullopt;
    at = close + 1;
  } else {
    while (at < text.size() && text[at] != ',' && text[at] != '}') ++at;
  }
  if (at == begin || at >= text.size()) return std::nullopt;
  return text.substr(begin, at - begin);
}

}  // namespace

std::optional<JsonFields> parse_json_line(const std::string& line) {
  JsonFields fields;
  if (line.size() < 2 || line.front() != '{') return std::nullopt;
  std::size_t at = 1;
  if (line[at] == '}') return at + 1 == line.size() ? std::optional(fields) : std::nullopt;
  while (at < line.size()) {
    if (line[at] != '"') return std::nullopt;
    std::optional<std::string> key = read_string(line, at);
    if (!key || at >= line.size() || line[at] != ':') return std::nullopt;
    if (++at >= line.size()) return std::nullopt;
    std::optional<std::string> value = line[at] == '"' ? read_string(line, at) : read_bare(line, at);
    if (!value || at >= line.size()) return std::nullopt;
    fields[*key] = *value;
    if (line[at] == '}') return at + 1 == line.size() ? std::optional(fields) : std::nullopt;
    if (line[at] != ',') return std::nullopt;
    ++at;
  }
  return std::nullopt;
}

std::vector<JsonFields> read_json_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<JsonFields> out;
  for (std::string line; std::getline(in, line);) {
    out.push_back(parse_json_line(line).value_or(JsonFields{}));
  }
  return out;
}

std::optional<int64_t> json_int(const JsonFields& fields, const std::string& key) {
  const auto found = fields.find(key);
  if (found == fields.end()) return std::nullopt;
  const std::string& text = found->second;
  int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace edgefl::testing
