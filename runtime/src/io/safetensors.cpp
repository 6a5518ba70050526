#include "edgefl/io/safetensors.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

#include "edgefl/base/half.hpp"
#include "edgefl/base/json_line.hpp"
#include "edgefl/base/json_value.hpp"
#include "edgefl/store/atomic_file.hpp"

namespace edgefl {

namespace {

constexpr std::string_view kMetadataKey = "__metadata__";

enum class Dtype { f32, f16, bf16 };

std::size_t dtype_size(Dtype d) {
  return d == Dtype::f32 ? 4 : 2;
}

float to_float(Dtype d, const uint8_t* p) {
  if (d == Dtype::f32) {
    uint32_t bits =
        uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
    return std::bit_cast<float>(bits);
  }
  const auto half = static_cast<uint16_t>(p[0] | p[1] << 8);
  return d == Dtype::f16 ? half_to_float(half) : std::bit_cast<float>(uint32_t{half} << 16);
}

// product(shape) in 64 bits; false when it overflows.
bool element_count(const std::vector<uint64_t>& shape, uint64_t& count) {
  count = 1;
  for (uint64_t d : shape) {
    if (d != 0 && count > UINT64_MAX / d) return false;
    count *= d;
  }
  return true;
}

struct Entry {
  std::string name;
  Dtype dtype = Dtype::f32;
  std::vector<uint64_t> shape;
  uint64_t begin = 0, end = 0;
};

class HeaderReader {
 public:
  explicit HeaderReader(std::string_view origin) : origin_(origin) {}

  Status error(const std::string& what) const {
    return make_status(StatusCode::corrupt, origin_ + ": safetensors header: " + what);
  }

  Status read(const JsonValue& header, std::vector<Entry>& entries, SafetensorsFile& file) const {
    if (header.type != JsonValue::Type::object) return error("not a JSON object");
    for (const auto& [name, value] : header.members) {
      if (name == kMetadataKey) {
        if (value.type != JsonValue::Type::object) return error("__metadata__ is not an object");
        for (const auto& [key, text] : value.members) {
          if (text.type != JsonValue::Type::string)
            return error("__metadata__ '" + key + "' is not a string");
          file.metadata.emplace_back(key, text.string);
        }
        continue;
      }
      Entry entry;
      entry.name = name;
      EDGEFL_RETURN_IF_ERROR(tensor(value, entry));
      entries.push_back(std::move(entry));
    }
    return Status();
  }

 private:
  Status tensor(const JsonValue& value, Entry& entry) const {
    const std::string what = "tensor '" + entry.name + "'";
    if (entry.name.empty()) return error("a tensor without a name");
    if (value.type != JsonValue::Type::object || value.members.size() != 3) {
      return error(what + " is not an object of exactly dtype, shape and data_offsets");
    }
    const JsonValue* dtype = value.find("dtype");
    const JsonValue* shape = value.find("shape");
    const JsonValue* offsets = value.find("data_offsets");
    if (dtype == nullptr || shape == nullptr || offsets == nullptr) {
      return error(what + " is not an object of exactly dtype, shape and data_offsets");
    }
    if (dtype->type != JsonValue::Type::string) return error(what + ": dtype is not a string");
    if (dtype->string == "F32") {
      entry.dtype = Dtype::f32;
    } else if (dtype->string == "F16") {
      entry.dtype = Dtype::f16;
    } else if (dtype->string == "BF16") {
      entry.dtype = Dtype::bf16;
    } else {
      return make_status(
          StatusCode::invalid_argument,
          origin_ + ": " + what + " has dtype " + dtype->string + " (F32, F16 and BF16 are read)");
    }
    EDGEFL_RETURN_IF_ERROR(whole_numbers(*shape, what + ": shape", entry.shape));
    std::vector<uint64_t> span;
    EDGEFL_RETURN_IF_ERROR(whole_numbers(*offsets, what + ": data_offsets", span));
    if (span.size() != 2 || span[0] > span[1])
      return error(what + ": data_offsets is not [begin, end] with begin <= end");
    entry.begin = span[0];
    entry.end = span[1];
    uint64_t count = 0;
    if (!element_count(entry.shape, count) || count > UINT64_MAX / dtype_size(entry.dtype) ||
        count * dtype_size(entry.dtype) != entry.end - entry.begin) {
      return error(what + ": shape and dtype need " + std::to_string(count) + " x " +
                   std::to_string(dtype_size(entry.dtype)) + " bytes, data_offsets span " +
                   std::to_string(entry.end - entry.begin));
    }
    return Status();
  }

  // Sizes and offsets: whole numbers a double holds exactly (up to 2^53, 8 PiB of data).
  Status whole_numbers(const JsonValue& value, const std::string& what,
                       std::vector<uint64_t>& out) const {
    if (value.type != JsonValue::Type::array) return error(what + " is not an array");
    for (const JsonValue& item : value.items) {
      const double n = item.number;
      if (item.type != JsonValue::Type::number || !(n >= 0 && n <= 0x1p53) || n != std::floor(n)) {
        return error(what + " holds something not a whole number");
      }
      out.push_back(static_cast<uint64_t>(n));
    }
    return Status();
  }

  std::string origin_;
};

}  // namespace

Result<std::vector<uint8_t>> encode_safetensors(const SafetensorsFile& file) {
  auto invalid = [](const std::string& what) {
    return make_status(StatusCode::invalid_argument, "safetensors: " + what);
  };
  std::string header = "{";
  if (!file.metadata.empty()) {
    json_append_string(header, kMetadataKey);
    header += ":{";
    for (std::size_t k = 0; k < file.metadata.size(); ++k) {
      if (k > 0) header += ',';
      json_append_string(header, file.metadata[k].first);
      header += ':';
      json_append_string(header, file.metadata[k].second);
    }
    header += '}';
  }
  uint64_t offset = 0;
  for (std::size_t t = 0; t < file.tensors.size(); ++t) {
    const ShapedTensor& tensor = file.tensors[t];
    for (std::size_t other = 0; other < t; ++other) {
      if (file.tensors[other].name == tensor.name)
        return invalid("tensor '" + tensor.name + "' appears twice");
    }
    if (tensor.name.empty() || tensor.name == kMetadataKey) {
      return invalid("tensor name '" + tensor.name + "' is not allowed");
    }
    uint64_t count = 0;
    if (!element_count(tensor.shape, count) || count != tensor.values.size()) {
      return invalid("tensor '" + tensor.name + "' holds " + std::to_string(tensor.values.size()) +
                     " values, its shape another count");
    }
    if (header.size() > 1) header += ',';
    json_append_string(header, tensor.name);
    header += R"(:{"dtype":"F32","shape":[)";
    for (std::size_t k = 0; k < tensor.shape.size(); ++k) {
      header += (k > 0 ? "," : "") + std::to_string(tensor.shape[k]);
    }
    header += "],\"data_offsets\":[" + std::to_string(offset) + "," +
              std::to_string(offset + 4 * count) + "]}";
    offset += 4 * count;
  }
  header += '}';
  while ((8 + header.size()) % 8 != 0) header += ' ';  // the data starts 8-byte aligned

  std::vector<uint8_t> out;
  out.reserve(8 + header.size() + offset);
  for (int k = 0; k < 8; ++k)
    out.push_back(static_cast<uint8_t>(uint64_t{header.size()} >> (8 * k)));
  out.insert(out.end(), header.begin(), header.end());
  for (const ShapedTensor& tensor : file.tensors) {
    for (float v : tensor.values) {
      const uint32_t bits = std::bit_cast<uint32_t>(v);
      for (int k = 0; k < 4; ++k) out.push_back(static_cast<uint8_t>(bits >> (8 * k)));
    }
  }
  return out;
}

Result<SafetensorsFile> decode_safetensors(std::span<const uint8_t> bytes,
                                           std::string_view origin) {
  const std::string where(origin);
  HeaderReader reader(origin);
  if (bytes.size() < 8)
    return make_status(StatusCode::truncated, where + ": shorter than a safetensors header length");
  uint64_t length = 0;
  for (int k = 0; k < 8; ++k) length |= uint64_t{bytes[k]} << (8 * k);
  if (length < 2 || length > kMaxSafetensorsHeader) {
    return reader.error("length " + std::to_string(length) + " is not in 2.." +
                        std::to_string(kMaxSafetensorsHeader));
  }
  if (length > bytes.size() - 8) {
    return make_status(StatusCode::truncated, where + ": the file ends inside the " +
                                                  std::to_string(length) +
                                                  "-byte safetensors header");
  }
  std::string_view text(reinterpret_cast<const char*>(bytes.data() + 8), length);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);  // padding
  Result<JsonValue> header = parse_json(text);
  if (!header) return reader.error(header.status().message());

  SafetensorsFile file;
  std::vector<Entry> entries;
  EDGEFL_RETURN_IF_ERROR(reader.read(*header, entries, file));

  // The spans, in offset order, must tile the data exactly.
  const std::span<const uint8_t> data = bytes.subspan(8 + length);
  std::vector<const Entry*> order;
  for (const Entry& e : entries) order.push_back(&e);
  std::stable_sort(order.begin(), order.end(), [](const Entry* a, const Entry* b) {
    return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
  });
  uint64_t covered = 0;
  for (const Entry* e : order) {
    if (e->begin != covered) {
      return reader.error("tensor '" + e->name + "' starts at " + std::to_string(e->begin) +
                          ", not at " + std::to_string(covered) +
                          (e->begin < covered ? " (overlap)" : " (gap)"));
    }
    covered = e->end;
  }
  if (covered != data.size()) {
    return make_status(covered > data.size() ? StatusCode::truncated : StatusCode::corrupt,
                       where + ": the tensors span " + std::to_string(covered) +
                           " data bytes, the file holds " + std::to_string(data.size()));
  }
  for (const Entry& e : entries) {
    ShapedTensor tensor;
    tensor.name = e.name;
    tensor.shape = e.shape;
    const std::size_t size = dtype_size(e.dtype);
    tensor.values.resize(static_cast<std::size_t>((e.end - e.begin) / size));
    for (std::size_t i = 0; i < tensor.values.size(); ++i) {
      tensor.values[i] = to_float(e.dtype, data.data() + e.begin + i * size);
      if (!std::isfinite(tensor.values[i])) {
        return make_status(StatusCode::non_finite, where + ": tensor '" + e.name + "' value " +
                                                       std::to_string(i) + " is not finite");
      }
    }
    file.tensors.push_back(std::move(tensor));
  }
  return file;
}

Result<SafetensorsFile> read_safetensors(const std::string& path, uint64_t max_bytes) {
  Result<std::vector<std::byte>> bytes = read_file(path, max_bytes);
  if (!bytes) return bytes.status();
  return decode_safetensors(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes->data()), bytes->size()),
      path);
}

Status write_safetensors(const std::string& path, const SafetensorsFile& file) {
  Result<std::vector<uint8_t>> bytes = encode_safetensors(file);
  if (!bytes) return bytes.status();
  return atomic_write_file(path, std::as_bytes(std::span<const uint8_t>(*bytes)));
}

}  // namespace edgefl
