#include "toml_precheck.hpp"

#include <string>

namespace edgefl::config_detail {

namespace {

enum class Context { code, comment, basic, literal, multiline_basic, multiline_literal };

bool starts_with_at(std::string_view text, std::size_t at, std::string_view what) {
  return text.substr(at, what.size()) == what;
}

}  // namespace

Status check_ascii_outside_strings(std::string_view text, std::string_view origin) {
  Context context = Context::code;
  std::size_t line = 1;
  std::size_t column = 1;
  for (std::size_t i = 0; i < text.size(); ++i, ++column) {
    const char c = text[i];
    switch (context) {
      case Context::code:
        if (static_cast<unsigned char>(c) >= 0x80) {
          return make_status(StatusCode::invalid_argument,
                             std::string(origin) + ":" + std::to_string(line) + ":" +
                                 std::to_string(column) +
                                 ": a non-ASCII character outside a string or comment");
        }
        if (c == '#') {
          context = Context::comment;
        } else if (starts_with_at(text, i, "\"\"\"")) {
          context = Context::multiline_basic;
          i += 2;
        } else if (starts_with_at(text, i, "'''")) {
          context = Context::multiline_literal;
          i += 2;
        } else if (c == '"') {
          context = Context::basic;
        } else if (c == '\'') {
          context = Context::literal;
        }
        break;
      case Context::comment:
        if (c == '\n') context = Context::code;
        break;
      case Context::basic:
        if (c == '\\') {
          ++i;  // the escaped character cannot end the string
        } else if (c == '"' || c == '\n') {
          context = Context::code;  // a newline ends it too: toml++ reports that error
        }
        break;
      case Context::literal:
        if (c == '\'' || c == '\n') context = Context::code;
        break;
      case Context::multiline_basic:
        if (c == '\\') {
          ++i;
        } else if (starts_with_at(text, i, "\"\"\"")) {
          context = Context::code;
          i += 2;
        }
        break;
      case Context::multiline_literal:
        if (starts_with_at(text, i, "'''")) {
          context = Context::code;
          i += 2;
        }
        break;
    }
    if (i < text.size() && text[i] == '\n') {
      ++line;
      column = 0;
    }
  }
  return Status();
}

}  // namespace edgefl::config_detail
