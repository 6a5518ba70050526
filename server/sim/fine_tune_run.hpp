// Local-GD fine-tuning of a pretrained network's head (docs/local_gd.md, R3), through the real
// server and device code on a simulated cluster.
//
//   FineTuneOptions o;  o.rounds = 100;
//   auto problem = make_fine_tune_problem(o);       // pretraining, the split, the references
//   auto summary = run_fine_tune(o, *problem, /*local_steps=*/10, [](const FineTuneRound& r) {});
//
// A small CNN is trained centrally on the Fashion-MNIST classes 0-4; its head (the last Dense
// layer) is then set to 0 and fine-tuned on all ten classes with Local-GD (full-batch local
// steps, step c / L, uniform averaging), the rest frozen (train.trainable_layers = last:1),
// over ten nodes with an 80/20 label skew (node m: 80 % class m). Devices train the head on
// cached features of the frozen prefix (edgefl/train/feature_cache.hpp). After every round the
// global head is compared with centralised full-batch GD of step c on the pooled nodes.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "edgefl/base/float_buffer.hpp"
#include "edgefl/base/model_spec.hpp"
#include "edgefl/base/status.hpp"
#include "edgefl/data/dataset.hpp"
#include "edgefl/train/feature_cache.hpp"

namespace edgefl::sim {

struct FineTuneOptions {
  uint32_t rounds = 100;
  uint32_t nodes = 10;
  uint32_t per_node = 50;        // fine-tuning samples per node
  double majority = 0.8;         // share of node m's samples from class m
  uint32_t pretrain_epochs = 1;  // over the training images of classes 0-4 not used for fine-tuning
  uint32_t pretrain_samples = 0;  // at most this many of them (0: all, about 29,700)
  double c = 0;  // centralised step (0: 2 n / lambda_max of the [features, 1] Gram)
  uint64_t seed = 1;
  std::string data_dir;        // Fashion-MNIST (empty: Debian's)
  double time_limit_s = 3600;  // per run
  std::string work_dir = "/tmp/edgefl-local-gd";
};

struct FineTuneProblem {
  ModelSpec spec;
  FrozenPrefix prefix;                 // everything before the head
  FloatBuffer start;                   // pretrained network, head at 0
  std::vector<std::string> node_data;  // the data name each device loads
  Dataset pooled;                      // all nodes' features (the centralised problem)
  Dataset test;                        // features of the 10,000 test images
  double c = 0;
  double pretrain_accuracy = 0;  // on the test images of classes 0-4
  double pretrain_seconds = 0;
  std::size_t pretrain_samples = 0;
};

struct FineTuneRound {
  uint32_t local_steps = 0;
  uint64_t round = 0;
  double elapsed_s = 0;
  double train_loss = 0;          // mean over the pooled fine-tuning samples
  double test_accuracy = 0;       // all ten classes
  double new_class_accuracy = 0;  // test images of classes 5-9
  double head_cos_central = 0;    // cosine of the head (weights and bias) to centralised GD's
  double central_train_loss = 0;
  double central_test_accuracy = 0;
};

struct FineTuneSummary {
  uint32_t local_steps = 0;
  float lr = 0;
  uint64_t rounds = 0;
  double seconds = 0;
  FineTuneRound last;
  Status status;
};

Result<FineTuneProblem> make_fine_tune_problem(const FineTuneOptions& options);
Result<FineTuneSummary> run_fine_tune(const FineTuneOptions& options,
                                      const FineTuneProblem& problem, uint32_t local_steps,
                                      const std::function<void(const FineTuneRound&)>& on_round);

}  // namespace edgefl::sim
