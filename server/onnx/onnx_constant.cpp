#include "onnx_constant.hpp"

#include <bit>
#include <cmath>
#include <cstring>

namespace edgefl::onnx_io {

namespace {

constexpr uint64_t kMaxElements = uint64_t{1} << 28;

Status refuse(const onnx::TensorProto& tensor, const std::string& why) {
  return make_status(StatusCode::invalid_argument, "tensor '" + tensor.name() + "': " + why);
}

template <typename T>
void from_raw(const std::string& raw, std::vector<T>& out) {
  out.resize(raw.size() / sizeof(T));
  std::memcpy(out.data(), raw.data(), out.size() * sizeof(T));  // ONNX raw data is little-endian
}

}  // namespace

Result<Constant> read_constant(const onnx::TensorProto& tensor) {
  static_assert(std::endian::native == std::endian::little, "ONNX raw data is little-endian");
  if (tensor.data_location() == onnx::TensorProto::EXTERNAL || tensor.external_data_size() > 0)
    return refuse(tensor,
                  "external data is not supported: export with the weights inside the file");
  Constant c;
  uint64_t count = 1;
  for (int64_t d : tensor.dims()) {
    if (d < 0 || (d > 0 && count > kMaxElements / static_cast<uint64_t>(d)))
      return refuse(tensor, "dimension " + std::to_string(d) + " is negative or too large");
    count *= static_cast<uint64_t>(d);
    c.dims.push_back(d);
  }
  const bool raw = tensor.has_raw_data();
  switch (tensor.data_type()) {
    case onnx::TensorProto::FLOAT:
      if (raw) {
        if (tensor.raw_data().size() != count * sizeof(float))
          return refuse(tensor, "raw data size does not match its shape");
        from_raw(tensor.raw_data(), c.floats);
      } else {
        c.floats.assign(tensor.float_data().begin(), tensor.float_data().end());
      }
      for (float v : c.floats)
        if (!std::isfinite(v)) return refuse(tensor, "holds a value that is not finite");
      break;
    case onnx::TensorProto::INT64:
      c.integer = true;
      if (raw) {
        if (tensor.raw_data().size() != count * sizeof(int64_t))
          return refuse(tensor, "raw data size does not match its shape");
        from_raw(tensor.raw_data(), c.ints);
      } else {
        c.ints.assign(tensor.int64_data().begin(), tensor.int64_data().end());
      }
      break;
    case onnx::TensorProto::INT32: {
      c.integer = true;
      std::vector<int32_t> narrow;
      if (raw) {
        if (tensor.raw_data().size() != count * sizeof(int32_t))
          return refuse(tensor, "raw data size does not match its shape");
        from_raw(tensor.raw_data(), narrow);
      } else {
        narrow.assign(tensor.int32_data().begin(), tensor.int32_data().end());
      }
      c.ints.assign(narrow.begin(), narrow.end());
      break;
    }
    default:
      return refuse(tensor, "data type " + std::to_string(tensor.data_type()) +
                                " is not supported (FLOAT weights, INT64 or INT32 shapes)");
  }
  if (c.size() != count)
    return refuse(tensor, "holds " + std::to_string(c.size()) + " values, its shape " +
                              std::to_string(count));
  for (int64_t v : c.ints)
    if (v == kBatchDim) return refuse(tensor, "holds INT64_MIN");
  return c;
}

}  // namespace edgefl::onnx_io
