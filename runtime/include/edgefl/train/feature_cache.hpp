// Training the layers after a frozen prefix on the prefix's cached outputs.
//
// When every layer before the first trainable one is frozen and none of them draws random
// numbers in training (dropout), the prefix maps a sample to the same features at every step.
// Training the rest of the network (the head) on those features then takes the same steps as
// training the whole network with the prefix frozen, without the prefix's forward passes. A
// device computes the features of its shard once and again only when the prefix's parameters
// change (they do not while the server keeps those layers frozen).
//
//   std::optional<FrozenPrefix> prefix = frozen_prefix(spec, trainable_layers);  // nullopt: no
//   prefix FeatureCache cache; cache.refresh(full_network, *prefix, params, shard);        //
//   forward passes only when needed head_trainer->train(params.subspan(prefix->param_offset),  //
//   the head's parameters, in place
//                       DatasetView(cache.features()), config);
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "edgefl/base/model_spec.hpp"
#include "edgefl/base/status.hpp"
#include "edgefl/data/dataset.hpp"
#include "edgefl/nn/network.hpp"

namespace edgefl {

struct FrozenPrefix {
  std::size_t layers = 0;                // layers [0, layers) are frozen
  std::size_t param_offset = 0;          // the head's parameters start here in the flat buffer
  ModelSpec head;                        // layers [layers, end) on the prefix's output shape
  std::vector<uint32_t> head_trainable;  // the trainable layers, numbered within `head`
};

// The frozen prefix of `spec` under `trainable` (ascending layer indices, check_trainable'd;
// empty: every layer trains), or nullopt when there is none to cache: every layer trains, the
// first layer trains, or a dropout layer comes before the first trainable one.
std::optional<FrozenPrefix> frozen_prefix(const ModelSpec& spec,
                                          const std::vector<uint32_t>& trainable);

class FeatureCache {
 public:
  // Makes features() the prefix's outputs for every sample of `data` (targets and classes
  // kept), computed with `network` (the whole spec; its micro-batch sets the chunk) in
  // evaluation mode. Recomputed only when `data` yields other samples (DatasetView::
  // same_samples) or the prefix's parameters differ from those of the last computation.
  Status refresh(Network& network, const FrozenPrefix& prefix, std::span<const float> params,
                 const DatasetView& data);
  const Dataset& features() const { return features_; }
  // Forward passes over the shard so far (1 after the first refresh while nothing changes).
  uint64_t computations() const { return computations_; }

 private:
  std::optional<DatasetView> source_;
  std::vector<float> prefix_params_;
  Dataset features_;
  uint64_t computations_ = 0;
};

}  // namespace edgefl
