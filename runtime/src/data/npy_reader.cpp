#include "edgefl/data/npy_reader.hpp"

#include <array>
#include <charconv>
#include <cstring>
#include <optional>

#include "file_bytes.hpp"

namespace edgefl {

namespace {

struct TypeInfo {
  NpyType type;
  const char* name;
  std::size_t size;
};
constexpr std::array<TypeInfo, 11> kTypes{{{NpyType::b1, "|b1", 1},
                                           {NpyType::u1, "|u1", 1},
                                           {NpyType::i1, "|i1", 1},
                                           {NpyType::u2, "<u2", 2},
                                           {NpyType::i2, "<i2", 2},
                                           {NpyType::u4, "<u4", 4},
                                           {NpyType::i4, "<i4", 4},
                                           {NpyType::u8, "<u8", 8},
                                           {NpyType::i8, "<i8", 8},
                                           {NpyType::f4, "<f4", 4},
                                           {NpyType::f8, "<f8", 8}}};

const TypeInfo& info(NpyType type) {
  return kTypes[static_cast<std::size_t>(type)];
}

// numpy writes "|u1" for one-byte types and "<f4" for little-endian ones; "<u1" and "=f4"
// (native order, little-endian on every target edgefl supports) mean the same.
std::optional<NpyType> type_of(std::string_view descr) {
  if (descr.size() != 3) return std::nullopt;
  for (const TypeInfo& t : kTypes) {
    const std::string_view name(t.name);
    if (descr.substr(1) != name.substr(1)) continue;
    if (descr[0] == name[0] || descr[0] == '=' ||
        (t.size == 1 && (descr[0] == '<' || descr[0] == '|'))) {
      return t.type;
    }
  }
  return std::nullopt;
}

// The header is a Python dict literal; this reads exactly the subset numpy writes.
class HeaderParser {
 public:
  HeaderParser(std::string_view text, std::string_view origin) : text_(text), origin_(origin) {}

  Status parse(std::string& descr, std::optional<bool>& fortran,
               std::optional<std::vector<uint64_t>>& shape) {
    bool have_descr = false;
    EDGEFL_RETURN_IF_ERROR(expect('{'));
    while (true) {
      skip_space();
      if (peek('}')) break;
      std::string key;
      EDGEFL_RETURN_IF_ERROR(string(key));
      EDGEFL_RETURN_IF_ERROR(expect(':'));
      skip_space();
      if (key == "descr" && !have_descr) {
        EDGEFL_RETURN_IF_ERROR(string(descr));
        have_descr = true;
      } else if (key == "fortran_order" && !fortran) {
        EDGEFL_RETURN_IF_ERROR(boolean(fortran));
      } else if (key == "shape" && !shape) {
        shape.emplace();
        EDGEFL_RETURN_IF_ERROR(tuple(*shape));
      } else {
        return error("unexpected or repeated key '" + key + "'");
      }
      skip_space();
      if (peek('}')) break;
      EDGEFL_RETURN_IF_ERROR(expect(','));
    }
    ++at_;
    while (at_ < text_.size() && (text_[at_] == ' ' || text_[at_] == '\n')) ++at_;
    if (at_ != text_.size()) return error("text after the header dict");
    if (!have_descr || !fortran || !shape)
      return error("the header lacks descr, fortran_order or shape");
    return Status();
  }

 private:
  Status error(const std::string& what) const {
    return make_status(StatusCode::corrupt, std::string(origin_) + ": npy header: " + what);
  }
  void skip_space() {
    while (at_ < text_.size() && text_[at_] == ' ') ++at_;
  }
  bool peek(char c) const { return at_ < text_.size() && text_[at_] == c; }
  Status expect(char c) {
    skip_space();
    if (!peek(c))
      return error(std::string("expected '") + c + "' at offset " + std::to_string(at_));
    ++at_;
    return Status();
  }
  Status string(std::string& out) {
    if (!peek('\'') && !peek('"'))
      return error("expected a quoted string at offset " + std::to_string(at_));
    const char quote = text_[at_++];
    const std::size_t end = text_.find(quote, at_);
    if (end == std::string_view::npos) return error("unterminated string");
    out.assign(text_.substr(at_, end - at_));
    at_ = end + 1;
    return Status();
  }
  Status boolean(std::optional<bool>& out) {
    if (text_.substr(at_, 4) == "True") {
      out = true, at_ += 4;
    } else if (text_.substr(at_, 5) == "False") {
      out = false, at_ += 5;
    } else {
      return error("fortran_order is not True or False");
    }
    return Status();
  }
  Status tuple(std::vector<uint64_t>& out) {
    EDGEFL_RETURN_IF_ERROR(expect('('));
    while (true) {
      skip_space();
      if (peek(')')) break;
      uint64_t value = 0;
      const char* begin = text_.data() + at_;
      auto [end, failure] = std::from_chars(begin, text_.data() + text_.size(), value);
      if (failure != std::errc() || end == begin)
        return error("a shape entry is not a whole number");
      at_ += static_cast<std::size_t>(end - begin);
      out.push_back(value);
      skip_space();
      if (peek(')')) break;
      EDGEFL_RETURN_IF_ERROR(expect(','));
    }
    ++at_;
    if (out.size() > 32) return error("more than 32 dimensions");
    return Status();
  }

  std::string_view text_;
  std::string_view origin_;
  std::size_t at_ = 0;
};

uint64_t load_le(const uint8_t* p, std::size_t size) {
  uint64_t v = 0;
  for (std::size_t k = 0; k < size; ++k) v |= uint64_t{p[k]} << (8 * k);
  return v;
}

}  // namespace

std::string_view npy_type_name(NpyType type) {
  return info(type).name;
}
std::size_t npy_type_size(NpyType type) {
  return info(type).size;
}
bool npy_type_is_float(NpyType type) {
  return type == NpyType::f4 || type == NpyType::f8;
}

std::size_t NpyArray::element_count() const {
  return data.size() / npy_type_size(type);
}

double NpyArray::value(std::size_t i) const {
  const std::size_t size = npy_type_size(type);
  const uint64_t bits = load_le(data.data() + i * size, size);
  switch (type) {
    case NpyType::b1:
      return bits != 0 ? 1.0 : 0.0;
    case NpyType::u1:
    case NpyType::u2:
    case NpyType::u4:
    case NpyType::u8:
      return double(bits);
    case NpyType::i1:
      return double(int8_t(bits));
    case NpyType::i2:
      return double(int16_t(bits));
    case NpyType::i4:
      return double(int32_t(bits));
    case NpyType::i8:
      return double(int64_t(bits));
    case NpyType::f4: {
      float f;
      const auto narrow = static_cast<uint32_t>(bits);
      std::memcpy(&f, &narrow, sizeof f);
      return f;
    }
    case NpyType::f8: {
      double d;
      std::memcpy(&d, &bits, sizeof d);
      return d;
    }
  }
  return 0.0;
}

std::string NpyArray::shape_text() const {
  if (shape.empty()) return "scalar";
  std::string text;
  for (uint64_t d : shape) text += (text.empty() ? "" : "x") + std::to_string(d);
  return text;
}

Result<NpyArray> parse_npy(std::vector<uint8_t> bytes, std::string_view origin) {
  const std::string where(origin);
  static constexpr uint8_t kMagic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
  if (bytes.size() < 10)
    return make_status(StatusCode::truncated, where + ": shorter than an npy header");
  if (std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0) {
    return make_status(StatusCode::corrupt, where + ": not an npy file (bad magic)");
  }
  const uint8_t major = bytes[6];
  if (major < 1 || major > 3) {
    return make_status(StatusCode::version_mismatch,
                       where + ": npy format version " + std::to_string(major) + "." +
                           std::to_string(bytes[7]) + " (1.0, 2.0 and 3.0 are read)");
  }
  const std::size_t length_bytes = major == 1 ? 2 : 4;
  const std::size_t prefix = 6 + 2 + length_bytes;
  if (bytes.size() < prefix)
    return make_status(StatusCode::truncated, where + ": shorter than an npy header");
  const uint64_t header_length = load_le(bytes.data() + 8, length_bytes);
  if (header_length > bytes.size() - prefix) {
    return make_status(StatusCode::truncated, where + ": file ends inside the npy header (" +
                                                  std::to_string(header_length) +
                                                  " bytes claimed)");
  }
  const std::string_view header(reinterpret_cast<const char*>(bytes.data() + prefix),
                                header_length);
  std::string descr;
  std::optional<bool> fortran;
  std::optional<std::vector<uint64_t>> shape;
  EDGEFL_RETURN_IF_ERROR(HeaderParser(header, origin).parse(descr, fortran, shape));
  const std::optional<NpyType> type = type_of(descr);
  if (!type) {
    return make_status(StatusCode::invalid_argument,
                       where + ": dtype '" + descr +
                           "' is not read (little-endian bool, integers, float32 or float64 only)");
  }
  if (*fortran) {
    return make_status(
        StatusCode::invalid_argument,
        where + ": Fortran-order array; save it in C order (numpy.ascontiguousarray)");
  }
  // In 64 bits also where size_t has 32, so the product cannot wrap before the check.
  uint64_t payload = npy_type_size(*type);
  for (uint64_t d : *shape) {
    if (d != 0 && payload > (uint64_t{1} << 62) / d) {
      return make_status(StatusCode::too_large, where + ": the shape's size overflows");
    }
    payload *= d;
  }
  const uint64_t present = bytes.size() - prefix - header_length;
  if (present < payload) {
    return make_status(StatusCode::truncated,
                       where + ": the shape needs " + std::to_string(payload) +
                           " data bytes, the file holds " + std::to_string(present));
  }
  if (present > payload) {
    return make_status(StatusCode::corrupt, where + ": " + std::to_string(present - payload) +
                                                " bytes after the array's data");
  }
  NpyArray array;
  array.type = *type;
  array.shape = std::move(*shape);
  bytes.erase(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(prefix + header_length));
  array.data = std::move(bytes);
  return array;
}

Result<NpyArray> read_npy(const std::string& path, std::size_t max_bytes) {
  Result<std::vector<uint8_t>> bytes = read_file_bytes(path, max_bytes);
  if (!bytes) return bytes.status();
  return parse_npy(std::move(*bytes), path);
}

}  // namespace edgefl
