#include "edgefl/base/json_value.hpp"

#include <charconv>
#include <cmath>

namespace edgefl {

namespace {
constexpr int kMaxDepth = 64;
}  // namespace

class JsonParser {
 public:
  explicit JsonParser(std::string_view text) : text_(text) {}

  Result<JsonValue> document() {
    JsonValue value;
    EDGEFL_RETURN_IF_ERROR(parse_value(value, 0));
    skip_space();
    if (at_ != text_.size()) return error("text after the JSON value");
    return value;
  }

 private:
  Status error(const std::string& what) const {
    return make_status(StatusCode::corrupt, "JSON at byte " + std::to_string(at_) + ": " + what);
  }
  void skip_space() {
    while (at_ < text_.size() && (text_[at_] == ' ' || text_[at_] == '\t' || text_[at_] == '\n' || text_[at_] == '\r')) {
      ++at_;
    }
  }
  bool literal(std::string_view word) {
    if (text_.substr(at_, word.size()) != word) return false;
    at_ += word.size();
    return true;
  }

  Status parse_value(JsonValue& out, int depth) {
    if (depth > kMaxDepth) return error("nested deeper than " + std::to_string(kMaxDepth));
    skip_space();
    if (at_ >= text_.size()) return error("a value is missing");
    const char c = text_[at_];
    if (c == '{') return parse_object(out, depth);
    if (c == '[') return parse_array(out, depth);
    if (c == '"') {
      out.kind_ = JsonValue::Kind::string;
      return parse_string(out.string_);
    }
    if (literal("true")) {
      out.kind_ = JsonValue::Kind::boolean;
      out.boolean_ = true;
      return Status();
    }
    if (literal("false")) {
      out.kind_ = JsonValue::Kind::boolean;
      return Status();
    }
    if (literal("null")) return Status();
    if (c == '-' || (c >= '0' && c <= '9')) return parse_number(out);
    return error(std::string("unexpected character '") + c + "'");
  }

  Status parse_object(JsonValue& out, int depth) {
    out.kind_ = JsonValue::Kind::object;
    ++at_;
    skip_space();
    if (at_ < text_.size() && text_[at_] == '}') {
      ++at_;
      return Status();
    }
    while (true) {
      skip_space();
      if (at_ >= text_.size() || text_[at_] != '"') return error("expected a key");
      std::string key;
      EDGEFL_RETURN_IF_ERROR(parse_string(key));
      for (const auto& member : out.object_) {
        if (member.first == key) return error("key '" + key + "' appears twice");
      }
      skip_space();
      if (at_ >= text_.size() || text_[at_] != ':') return error("expected ':'");
      ++at_;
      JsonValue value;
      EDGEFL_RETURN_IF_ERROR(parse_value(value, depth + 1));
      out.object_.emplace_back(std::move(key), std::move(value));
      skip_space();
      if (at_ < text_.size() && text_[at_] == ',') {
        ++at_;
        continue;
      }
      if (at_ < text_.size() && text_[at_] == '}') {
        ++at_;
        return Status();
      }
      return error("expected ',' or '}'");
    }
  }

  Status parse_array(JsonValue& out, int depth) {
    out.kind_ = JsonValue::Kind::array;
    ++at_;
    skip_space();
    if (at_ < text_.size() && text_[at_] == ']') {
      ++at_;
      return Status();
    }
    while (true) {
      JsonValue value;
      EDGEFL_RETURN_IF_ERROR(parse_value(value, depth + 1));
      out.array_.push_back(std::move(value));
      skip_space();
      if (at_ < text_.size() && text_[at_] == ',') {
        ++at_;
        continue;
      }
      if (at_ < text_.size() && text_[at_] == ']') {
        ++at_;
        return Status();
      }
      return error("expected ',' or ']'");
    }
  }

  Status parse_number(JsonValue& out) {
    const std::size_t begin = at_;
    auto digits = [this] {
      const std::size_t start = at_;
      while (at_ < text_.size() && text_[at_] >= '0' && text_[at_] <= '9') ++at_;
      return at_ - start;
    };
    const bool negative = text_[at_] == '-';
    if (negative) ++at_;
    const std::size_t int_start = at_;
    const std::size_t int_digits = digits();
    if (int_digits == 0) return error("a number without digits");
    if (int_digits > 1 && text_[int_start] == '0') return error("a number with a leading zero");
    bool fraction = false, exponent = false;
    if (at_ < text_.size() && text_[at_] == '.') {
      ++at_;
      fraction = true;
      if (digits() == 0) return error("a fraction without digits");
    }
    if (at_ < text_.size() && (text_[at_] == 'e' || text_[at_] == 'E')) {
      ++at_;
      exponent = true;
      if (at_ < text_.size() && (text_[at_] == '+' || text_[at_] == '-')) ++at_;
      if (digits() == 0) return error("an exponent without digits");
    }
    const char* first = text_.data() + begin;
    const char* last = text_.data() + at_;
    out.kind_ = JsonValue::Kind::number;
    auto [end, failure] = std::from_chars(first, last, out.number_);
    if (end != last || failure != std::errc() || !std::isfinite(out.number_)) {
      return error("a number out of the range of a double");
    }
    if (!negative && !fraction && !exponent) {
      auto [int_end, int_failure] = std::from_chars(first, last, out.integer_);
      out.whole_ = int_failure == std::errc() && int_end == last;
    }
    return Status();
  }

  Status hex4(uint32_t& out) {
    if (text_.size() - at_ < 4) return error("a short \\u escape");
    out = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = text_[at_++];
      const uint32_t v = c >= '0' && c <= '9' ? uint32_t(c - '0')
                         : c >= 'a' && c <= 'f' ? uint32_t(c - 'a' + 10)
                         : c >= 'A' && c <= 'F' ? uint32_t(c - 'A' + 10)
                                                : 16u;
      if (v == 16) return error("a bad \\u escape");
      out = out * 16 + v;
    }
    return Status();
  }

  static void append_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  // One UTF-8 sequence starting at at_ (well-formed: no overlongs, surrogates or > U+10FFFF).
  Status utf8(std::string& out) {
    const auto byte = [this](std::size_t k) { return static_cast<uint8_t>(text_[at_ + k]); };
    const uint8_t lead = byte(0);
    std::size_t length = 0;
    uint8_t low = 0x80, high = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
      length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      length = 3;
      if (lead == 0xE0) low = 0xA0;
      if (lead == 0xED) high = 0x9F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      length = 4;
      if (lead == 0xF0) low = 0x90;
      if (lead == 0xF4) high = 0x8F;
    } else {
      return error("invalid UTF-8");
    }
    if (text_.size() - at_ < length) return error("invalid UTF-8");
    for (std::size_t k = 1; k < length; ++k) {
      const uint8_t b = byte(k);
      if (b < (k == 1 ? low : 0x80) || b > (k == 1 ? high : 0xBF)) return error("invalid UTF-8");
    }
    out.append(text_.substr(at_, length));
    at_ += length;
    return Status();
  }

  Status parse_string(std::string& out) {
    ++at_;  // the opening quote
    while (true) {
      if (at_ >= text_.size()) return error("an unterminated string");
      const auto c = static_cast<unsigned char>(text_[at_]);
      if (c == '"') {
        ++at_;
        return Status();
      }
      if (c < 0x20) return error("a control character in a string");
      if (c >= 0x80) {
        EDGEFL_RETURN_IF_ERROR(utf8(out));
        continue;
      }
      ++at_;
      if (c != '\\') {
        out += static_cast<char>(c);
        continue;
      }
      if (at_ >= text_.size()) return error("an unterminated escape");
      const char e = text_[at_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          uint32_t cp = 0;
          EDGEFL_RETURN_IF_ERROR(hex4(cp));
          if (cp >= 0xDC00 && cp <= 0xDFFF) return error("a lone low surrogate");
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            uint32_t low = 0;
            if (!literal("\\u")) return error("a high surrogate without its low half");
            EDGEFL_RETURN_IF_ERROR(hex4(low));
            if (low < 0xDC00 || low > 0xDFFF) return error("a high surrogate without its low half");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          }
          append_utf8(out, cp);
          break;
        }
        default: return error(std::string("an unknown escape '\\") + e + "'");
      }
    }
  }

  std::string_view text_;
  std::size_t at_ = 0;
};

const JsonValue* JsonValue::find(std::string_view key) const {
  for (const auto& member : object_) {
    if (member.first == key) return &member.second;
  }
  return nullptr;
}

Result<JsonValue> parse_json(std::string_view text) { return JsonParser(text).document(); }

}  // namespace edgefl
