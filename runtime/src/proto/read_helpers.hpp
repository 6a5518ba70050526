// Small readers shared by the message and checkpoint decoders: every string and list is
// length-checked against the limits before it is copied out of the buffer.
#pragma once

#include <flatbuffers/flatbuffers.h>

#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "edgefl/proto/proto.hpp"
#include "validate.hpp"

// Assigns a Result's value to `target` or returns its error from the enclosing function.
#define EDGEFL_ASSIGN(target, expr)                 \
  do {                                              \
    auto edgefl_result_ = (expr);                   \
    if (!edgefl_result_) return edgefl_result_.status(); \
    target = std::move(*edgefl_result_);            \
  } while (0)

namespace edgefl::proto_detail {

// Length is checked before the copy so a hostile string costs nothing.
inline Result<std::string> read_string(const flatbuffers::String* text, std::string_view what,
                                const DecodeLimits& limits) {
  if (text == nullptr) return std::string();
  EDGEFL_RETURN_IF_ERROR(check_string(std::string_view(text->c_str(), text->size()), what, limits));
  return std::string(text->c_str(), text->size());
}

template <typename T, typename U>
Result<std::vector<T>> read_list(const flatbuffers::Vector<U>* list, std::string_view what,
                                 const DecodeLimits& limits) {
  std::vector<T> out;
  if (list == nullptr) return out;
  EDGEFL_RETURN_IF_ERROR(check_list(list->size(), what, limits));
  out.reserve(list->size());
  // FlatBuffers 2.0.8's verifier checks a vector's length word, not that 8-byte elements are
  // 8-byte aligned, so elements are copied out bytewise instead of loaded in place.
  const uint8_t* raw = list->Data();
  for (flatbuffers::uoffset_t i = 0; i < list->size(); ++i) {
    U value;
    std::memcpy(&value, raw + std::size_t{i} * sizeof(U), sizeof(U));
    out.push_back(static_cast<T>(value));
  }
  return out;
}

inline Status missing(std::string_view what) {
  return Status(StatusCode::corrupt, std::string(what) + " is missing");
}

}  // namespace edgefl::proto_detail
