// Trainable layers: which layers of a model a task trains (protocol 1.5, Task.trainable_layers)
// and the slices of the flat parameter buffer they own. The other layers are frozen: they keep
// the server's parameters, get no weight gradient and no optimizer state, and an Update leaves
// them out. An empty list means every layer trains.
//
//   auto layers = parse_trainable("last:1", spec);     // the head only
//   TrainableSlices slices(spec, *layers);
//   slices.count();                                    // floats an Update carries
//   slices.gather(full_params, trainable_part);        // and scatter() the other way
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "edgefl/base/model_spec.hpp"
#include "edgefl/base/status.hpp"

namespace edgefl {

// The server's setting: "all" (or empty), "last:N" (the last N layers with parameters) or a
// comma list of layer indices ("0,4"). Checked as check_trainable does; the result is ascending.
Result<std::vector<uint32_t>> parse_trainable(std::string_view text, const ModelSpec& spec);

// Each index names a layer with parameters, ascending without repeats.
Status check_trainable(const std::vector<uint32_t>& layers, const ModelSpec& spec);

// The trainable parts of the flat parameter buffer, in layer order (adjacent layers merged).
class TrainableSlices {
 public:
  struct Slice {
    std::size_t offset = 0;
    std::size_t count = 0;
  };

  // An empty `layers` is the whole buffer. `layers` must have passed check_trainable.
  TrainableSlices(const ModelSpec& spec, const std::vector<uint32_t>& layers);

  bool all() const { return count_ == total_; }
  std::size_t count() const { return count_; }
  std::size_t total() const { return total_; }
  const std::vector<Slice>& slices() const { return slices_; }

  // full (total floats) -> part (count floats), and back; scatter leaves frozen floats alone.
  void gather(std::span<const float> full, std::span<float> part) const;
  void scatter(std::span<const float> part, std::span<float> full) const;

 private:
  std::vector<Slice> slices_;
  std::size_t count_ = 0;
  std::size_t total_ = 0;
};

}  // namespace edgefl
