#include "edgefl/base/json_value.hpp"

#include <charconv>
#include <cstdlib>

namespace edgefl {

namespace {

constexpr std::size_t kMaxDepth = 32;

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  Result<JsonValue> document() {
    JsonValue value;
    EDGEFL_RETURN_IF_ERROR(parse_value(value, 0));
    skip_space();
    if (pos_ != text_.size()) return error("end of document");
    return value;
  }

 private:
  Status error(std::string_view expected) const {
    return make_status(StatusCode::invalid_argument,
                       "json: expected " + std::string(expected) + " at byte " + std::to_string(pos_));
  }
  void skip_space() {
    while (pos_ < text_.size() &&
           (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' || text_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool literal(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  Status parse_value(JsonValue& out, std::size_t depth) {
    if (depth > kMaxDepth) return error("at most " + std::to_string(kMaxDepth) + " nested arrays or objects");
    skip_space();
    if (pos_ >= text_.size()) return error("a value");
    const char c = text_[pos_];
    if (c == '{') return parse_object(out, depth);
    if (c == '[') return parse_array(out, depth);
    if (c == '"') {
      out.type = JsonValue::Type::string;
      return parse_string(out.string);
    }
    if (literal("true") || literal("false")) {
      out.type = JsonValue::Type::boolean;
      out.boolean = text_[pos_ - 4] == 't';
      return Status();
    }
    if (literal("null")) return Status();
    return parse_number(out);
  }

  Status parse_number(JsonValue& out) {
    const std::size_t start = pos_;
    if (pos_ < text_.size() && text_[pos_] == '-') ++pos_;
    auto digits = [&] {
      const std::size_t from = pos_;
      while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
      return pos_ - from;
    };
    const std::size_t first = pos_;
    const std::size_t integer = digits();
    if (integer == 0 || (integer > 1 && text_[first] == '0')) {
      pos_ = start;
      return error("a value");
    }
    if (pos_ < text_.size() && text_[pos_] == '.') {
      ++pos_;
      if (digits() == 0) return error("digits after '.'");
    }
    if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
      if (digits() == 0) return error("digits in the exponent");
    }
    // strtod on a bounded copy: the grammar above has already been checked.
    const std::string number(text_.substr(start, pos_ - start));
    out.type = JsonValue::Type::number;
    out.number = std::strtod(number.c_str(), nullptr);
    return Status();
  }

  Status parse_string(std::string& out) {
    ++pos_;  // opening quote
    while (pos_ < text_.size()) {
      const char c = text_[pos_++];
      if (c == '"') return Status();
      if (static_cast<unsigned char>(c) < 0x20) return error("no control characters inside a string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= text_.size()) break;
      const char e = text_[pos_++];
      switch (e) {
        case '"': case '\\': case '/': out += e; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          unsigned code = 0;
          if (pos_ + 4 > text_.size()) return error("four hex digits after \\u");
          auto [end, err] = std::from_chars(text_.data() + pos_, text_.data() + pos_ + 4, code, 16);
          if (err != std::errc() || end != text_.data() + pos_ + 4) return error("four hex digits after \\u");
          pos_ += 4;
          // Model files are ASCII; other code points are kept as UTF-8 without surrogate pairing.
          if (code < 0x80) {
            out += static_cast<char>(code);
          } else if (code < 0x800) {
            out += static_cast<char>(0xC0 | (code >> 6));
            out += static_cast<char>(0x80 | (code & 0x3F));
          } else {
            out += static_cast<char>(0xE0 | (code >> 12));
            out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (code & 0x3F));
          }
          break;
        }
        default:
          --pos_;
          return error("a valid escape (\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)");
      }
    }
    return error("a closing quote");
  }

  Status parse_array(JsonValue& out, std::size_t depth) {
    out.type = JsonValue::Type::array;
    ++pos_;
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == ']') {
      ++pos_;
      return Status();
    }
    while (true) {
      out.items.emplace_back();
      EDGEFL_RETURN_IF_ERROR(parse_value(out.items.back(), depth + 1));
      skip_space();
      if (pos_ < text_.size() && text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < text_.size() && text_[pos_] == ']') {
        ++pos_;
        return Status();
      }
      return error("',' or ']'");
    }
  }

  Status parse_object(JsonValue& out, std::size_t depth) {
    out.type = JsonValue::Type::object;
    ++pos_;
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == '}') {
      ++pos_;
      return Status();
    }
    while (true) {
      skip_space();
      if (pos_ >= text_.size() || text_[pos_] != '"') return error("a quoted key");
      const std::size_t key_at = pos_;
      std::string key;
      EDGEFL_RETURN_IF_ERROR(parse_string(key));
      if (out.find(key) != nullptr) {
        pos_ = key_at;
        return error("no duplicate key '" + key + "'");
      }
      skip_space();
      if (pos_ >= text_.size() || text_[pos_] != ':') return error("':'");
      ++pos_;
      out.members.emplace_back(std::move(key), JsonValue());
      EDGEFL_RETURN_IF_ERROR(parse_value(out.members.back().second, depth + 1));
      skip_space();
      if (pos_ < text_.size() && text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < text_.size() && text_[pos_] == '}') {
        ++pos_;
        return Status();
      }
      return error("',' or '}'");
    }
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

}  // namespace

JsonValue::JsonValue() = default;
JsonValue::JsonValue(const JsonValue&) = default;
JsonValue::JsonValue(JsonValue&&) noexcept = default;
JsonValue& JsonValue::operator=(const JsonValue&) = default;
JsonValue& JsonValue::operator=(JsonValue&&) noexcept = default;
JsonValue::~JsonValue() = default;

const JsonValue* JsonValue::find(std::string_view key) const {
  for (const auto& [name, value] : members) {
    if (name == key) return &value;
  }
  return nullptr;
}

std::string_view json_type_name(JsonValue::Type type) {
  switch (type) {
    case JsonValue::Type::null: return "null";
    case JsonValue::Type::boolean: return "boolean";
    case JsonValue::Type::number: return "number";
    case JsonValue::Type::string: return "string";
    case JsonValue::Type::array: return "array";
    case JsonValue::Type::object: return "object";
  }
  return "value";
}

Result<JsonValue> parse_json(std::string_view text) { return Parser(text).document(); }

}  // namespace edgefl
