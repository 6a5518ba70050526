// StandardizationGate: the run's standardisation of the input features, and, when it is
// federated, the statistics phase before round 1 that fixes it (docs/standardization.md).
//
//   Result<StandardizationGate> gate = StandardizationGate::create(config, spec);
//   gate->pending();                                  // federated and not fixed yet
//   gate->add(device_id, moments, declared_samples);  // a device's DataStatistics, checked
//   Result<Standardization> fixed = gate->fix();      // Chan merge in device id order
//   gate->save(checkpoint);  gate->restore(checkpoint);
//
// Once fixed the standardisation never changes: devices joining later receive it in their
// Tasks, and a restarted server reads it back from its checkpoint instead of asking again.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "edgefl/base/model_spec.hpp"
#include "edgefl/base/standardization.hpp"
#include "edgefl/proto/checkpoint.hpp"
#include "server_config.hpp"

namespace edgefl::server {

class StandardizationGate {
 public:
  static Result<StandardizationGate> create(const ServerConfig& config, const ModelSpec& spec);

  // The run standardises (devices must speak 1.6 to apply it).
  bool needed() const { return config_.mode != "none"; }
  // Federated statistics are still being gathered: no training yet.
  bool pending() const { return needed() && fixed_.empty(); }
  const Standardization& fixed() const { return fixed_; }

  // A device's moments. Refused (and remembered as refused) unless they are what its data can
  // have: one mean and M2 per input feature, finite, M2 >= 0, and count equal to the sample
  // count it declared at Join, so a device cannot outweigh the others by claiming more.
  Status add(const std::string& device_id, const FeatureMoments& moments,
             uint64_t declared_samples);
  bool reported(const std::string& device_id) const { return reports_.count(device_id) != 0; }
  std::size_t report_count() const { return reports_.size(); }
  // Why this device's statistics were refused (empty: they were not).
  std::string refusal(const std::string& device_id) const;

  // Merges the reports in device id order (deterministic), pools them when configured, and
  // fixes mean and deviation. failed_precondition without reports.
  Result<Standardization> fix();
  // The total sample count of the merged reports (for the log).
  uint64_t merged_samples() const { return merged_samples_; }

  // Checkpoint scalars "standardize.mean:J" and "standardize.deviation:J".
  void save(Checkpoint& checkpoint) const;
  // Reads them back; errors when the checkpoint disagrees with the configuration (another
  // mode, other constants, another feature count).
  Status restore(const Checkpoint& checkpoint);

 private:
  StandardizationGate(StandardizeConfig config, std::size_t features)
      : config_(std::move(config)), features_(features) {}

  StandardizeConfig config_;
  std::size_t features_;
  Standardization fixed_;
  std::map<std::string, FeatureMoments> reports_;  // by device id: merged in this order
  std::map<std::string, std::string> refused_;     // device id -> why
  uint64_t merged_samples_ = 0;
};

}  // namespace edgefl::server
