#include "edgefl/base/trainable.hpp"

#include <algorithm>
#include <charconv>
#include <string>

namespace edgefl {
namespace {

Status bad_setting(std::string_view text, std::string_view why) {
  return make_status(StatusCode::invalid_argument,
                     "trainable layers '" + std::string(text) + "': " + std::string(why));
}

Result<uint32_t> parse_index(std::string_view text, std::string_view whole) {
  uint32_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) {
    return bad_setting(
        whole, "'" + std::string(text) + "' is not a layer index; use all, last:N or 0,4,...");
  }
  return value;
}

}  // namespace

Status check_trainable(const std::vector<uint32_t>& layers, const ModelSpec& spec) {
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const std::string what = "trainable layer " + std::to_string(layers[i]);
    if (layers[i] >= spec.layers.size()) {
      return make_status(
          StatusCode::out_of_range,
          what + " is past the model's " + std::to_string(spec.layers.size()) + " layers");
    }
    if (i > 0 && layers[i] <= layers[i - 1]) {
      return make_status(StatusCode::out_of_range,
                         "trainable layers must be ascending without repeats, " + what +
                             " follows " + std::to_string(layers[i - 1]));
    }
    if (!spec.layers[layers[i]].has_parameters()) {
      return make_status(StatusCode::out_of_range,
                         what + " (" + describe(spec.layers[layers[i]]) + ") has no parameters");
    }
  }
  return Status();
}

Result<std::vector<uint32_t>> parse_trainable(std::string_view text, const ModelSpec& spec) {
  std::vector<uint32_t> layers;
  if (text.empty() || text == "all") return layers;
  if (text.starts_with("last:")) {
    Result<uint32_t> n = parse_index(text.substr(5), text);
    if (!n) return n.status();
    if (*n == 0) return bad_setting(text, "last:N needs N >= 1");
    for (std::size_t i = spec.layers.size(); i-- > 0 && layers.size() < *n;) {
      if (spec.layers[i].has_parameters()) layers.push_back(static_cast<uint32_t>(i));
    }
    if (layers.size() < *n) {
      return bad_setting(
          text, "the model has only " + std::to_string(layers.size()) + " layers with parameters");
    }
    std::reverse(layers.begin(), layers.end());
  } else {
    std::size_t start = 0;
    while (start <= text.size()) {
      const std::size_t end = std::min(text.find(',', start), text.size());
      Result<uint32_t> index = parse_index(text.substr(start, end - start), text);
      if (!index) return index.status();
      layers.push_back(*index);
      start = end + 1;
    }
  }
  Status valid = check_trainable(layers, spec);
  if (!valid.ok()) return bad_setting(text, valid.message());
  return layers;
}

TrainableSlices::TrainableSlices(const ModelSpec& spec, const std::vector<uint32_t>& layers) {
  const std::vector<LayerGeometry> geometry = spec.geometry();
  for (const LayerGeometry& g : geometry) total_ += g.param_count;
  auto add = [&](std::size_t offset, std::size_t count) {
    if (count == 0) return;
    if (!slices_.empty() && slices_.back().offset + slices_.back().count == offset) {
      slices_.back().count += count;
    } else {
      slices_.push_back({offset, count});
    }
    count_ += count;
  };
  if (layers.empty()) {
    add(0, total_);
    return;
  }
  for (uint32_t index : layers) add(geometry[index].param_offset, geometry[index].param_count);
}

void TrainableSlices::gather(std::span<const float> full, std::span<float> part) const {
  std::size_t at = 0;
  for (const Slice& s : slices_) {
    std::copy_n(full.begin() + static_cast<std::ptrdiff_t>(s.offset), s.count,
                part.begin() + static_cast<std::ptrdiff_t>(at));
    at += s.count;
  }
}

void TrainableSlices::scatter(std::span<const float> part, std::span<float> full) const {
  std::size_t at = 0;
  for (const Slice& s : slices_) {
    std::copy_n(part.begin() + static_cast<std::ptrdiff_t>(at), s.count,
                full.begin() + static_cast<std::ptrdiff_t>(s.offset));
    at += s.count;
  }
}

}  // namespace edgefl
