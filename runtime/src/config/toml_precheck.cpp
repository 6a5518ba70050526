#include "toml_precheck.hpp"

#include <string>

namespace edgefl::config_detail {

namespace {

enum class Context { code, comment, basic, literal, multiline_basic, multiline_literal };

bool starts_with_at(std::string_view text, std::size_t at, std::string_view what) {
  return text.substr(at, what.size()) == what;
}

bool ascii_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// Where TOML lets a string begin: a key (line start, after '.', '[', '{', ',') or a value
// (after '=', '[', ','). Elsewhere a quote is a syntax error, and toml++'s error path may
// then read on through what follows as plain text.
bool string_may_start(char previous) {
  return previous == '\n' || previous == '=' || previous == '[' || previous == ',' ||
         previous == '{' || previous == '.';
}

}  // namespace

Status check_ascii_outside_strings(std::string_view text, std::string_view origin) {
  Context context = Context::code;
  char previous = '\n';  // the last non-space character seen in code
  std::size_t line = 1;
  std::size_t column = 0;
  auto refuse = [&](const char* what) {
    return make_status(StatusCode::invalid_argument, std::string(origin) + ":" +
                                                         std::to_string(line) + ":" +
                                                         std::to_string(column) + ": " + what);
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    ++column;
    const bool ascii = static_cast<unsigned char>(c) < 0x80;
    switch (context) {
      case Context::code:
        if (!ascii) return refuse("a non-ASCII character outside a string or comment");
        if (c == '#') {
          context = Context::comment;
        } else if ((c == '"' || c == '\'') && string_may_start(previous)) {
          const bool multiline = starts_with_at(text, i, c == '"' ? "\"\"\"" : "'''");
          context = c == '"' ? (multiline ? Context::multiline_basic : Context::basic)
                             : (multiline ? Context::multiline_literal : Context::literal);
          if (multiline) i += 2, column += 2;
        } else if (c == '\n' || !ascii_space(c)) {
          previous = c;
        }
        break;
      case Context::comment:
        if (c == '\n') context = Context::code, previous = '\n';
        break;
      case Context::basic:
      case Context::multiline_basic:
        if (c == '\\') {
          // An escape is ASCII; after a line-ending backslash toml++ tests what follows for
          // whitespace, so the first character after spaces and newlines must be ASCII too.
          std::size_t next = i + 1;
          while (next < text.size() && ascii_space(text[next])) ++next;
          if (next < text.size() && static_cast<unsigned char>(text[next]) >= 0x80) {
            return refuse("a non-ASCII character after a backslash");
          }
          if (i + 1 < text.size() && text[i + 1] != '\n') ++i, ++column;  // the escaped character
        } else if (context == Context::basic && (c == '"' || c == '\n')) {
          context = Context::code;  // a newline ends it too: toml++ reports that error
          previous = c == '\n' ? '\n' : 'v';
        } else if (context == Context::multiline_basic && starts_with_at(text, i, "\"\"\"")) {
          context = Context::code;
          previous = 'v';
          i += 2, column += 2;
        }
        break;
      case Context::literal:
        if (c == '\'' || c == '\n') context = Context::code, previous = c == '\n' ? '\n' : 'v';
        break;
      case Context::multiline_literal:
        if (starts_with_at(text, i, "'''")) {
          context = Context::code;
          previous = 'v';
          i += 2, column += 2;
        }
        break;
    }
    if (text[i] == '\n') {
      ++line;
      column = 0;
    }
  }
  return Status();
}

}  // namespace edgefl::config_detail
