#include "standardization_gate.hpp"

#include <cstdlib>
#include <string_view>

namespace edgefl::server {

namespace {

constexpr std::string_view kMeanPrefix = "standardize.mean:";
constexpr std::string_view kDeviationPrefix = "standardize.deviation:";

// The feature index of a scalar named "<prefix>J"; -1 when the name has another prefix.
Result<long> scalar_index(const std::string& name, std::string_view prefix) {
  if (name.compare(0, prefix.size(), prefix) != 0) return -1L;
  const char* digits = name.c_str() + prefix.size();
  char* end = nullptr;
  const long index = std::strtol(digits, &end, 10);
  if (end == digits || *end != '\0' || index < 0) {
    return make_status(StatusCode::corrupt, "malformed standardisation entry '" + name + "'");
  }
  return index;
}

}  // namespace

Result<StandardizationGate> StandardizationGate::create(const ServerConfig& config,
                                                        const ModelSpec& spec) {
  Result<Standardization> constants = configured_standardization(config, spec);
  if (!constants) return constants.status();
  StandardizationGate gate(config.standardize, spec.input_size());
  gate.fixed_ = std::move(*constants);
  return gate;
}

Status StandardizationGate::add(const std::string& device_id, const FeatureMoments& moments,
                                uint64_t declared_samples) {
  Status checked = check_moments(moments, "data statistics");
  if (checked.ok() && moments.mean.size() != features_) {
    checked = make_status(StatusCode::shape_mismatch,
                          "data statistics of " + std::to_string(moments.mean.size()) +
                              " features; the model has " + std::to_string(features_) + " inputs");
  }
  if (checked.ok() && moments.count != declared_samples) {
    checked = make_status(StatusCode::out_of_range,
                          "data statistics of " + std::to_string(moments.count) +
                              " samples; the device declared " + std::to_string(declared_samples) +
                              " at Join");
  }
  if (!checked.ok()) {
    refused_[device_id] = checked.to_string();
    reports_.erase(device_id);
    return checked;
  }
  reports_[device_id] = moments;
  return Status();
}

std::string StandardizationGate::refusal(const std::string& device_id) const {
  auto it = refused_.find(device_id);
  return it == refused_.end() ? std::string() : it->second;
}

Result<Standardization> StandardizationGate::fix() {
  if (reports_.empty()) {
    return make_status(StatusCode::failed_precondition, "no device reported data statistics");
  }
  FeatureMoments total;
  for (const auto& [id, moments] : reports_) {
    Status merged = merge_moments(total, moments);
    if (!merged.ok()) return merged.with_context("data statistics of " + id);
  }
  merged_samples_ = total.count;
  if (config_.pooled) total = pool_features(total);
  fixed_ = standardization_of(total, config_.min_deviation);
  return fixed_;
}

void StandardizationGate::save(Checkpoint& checkpoint) const {
  for (std::size_t j = 0; j < fixed_.mean.size(); ++j) {
    checkpoint.scalars.push_back(
        NamedScalar{std::string(kMeanPrefix) + std::to_string(j), fixed_.mean[j]});
    checkpoint.scalars.push_back(
        NamedScalar{std::string(kDeviationPrefix) + std::to_string(j), fixed_.deviation[j]});
  }
}

Status StandardizationGate::restore(const Checkpoint& checkpoint) {
  std::map<long, double> means, deviations;
  for (const NamedScalar& scalar : checkpoint.scalars) {
    Result<long> mean = scalar_index(scalar.name, kMeanPrefix);
    if (!mean) return mean.status();
    if (*mean >= 0) means[*mean] = scalar.value;
    Result<long> deviation = scalar_index(scalar.name, kDeviationPrefix);
    if (!deviation) return deviation.status();
    if (*deviation >= 0) deviations[*deviation] = scalar.value;
  }
  Standardization saved;
  for (const auto& [index, value] : means) {
    if (index != static_cast<long>(saved.mean.size()) || deviations.count(index) == 0) {
      return make_status(StatusCode::corrupt, "the checkpoint's standardisation misses feature " +
                                                  std::to_string(saved.mean.size()));
    }
    saved.mean.push_back(value);
    saved.deviation.push_back(deviations[index]);
  }
  if (saved.mean.size() != deviations.size()) {
    return make_status(StatusCode::corrupt,
                       "the checkpoint's standardisation has more deviations than means");
  }
  if (saved.empty()) {
    // Written before the statistics were fixed (or by a run without standardisation).
    if (!fixed_.empty()) {
      return make_status(
          StatusCode::failed_precondition,
          "the checkpoint was written without standardisation; standardize.mode = constants "
          "cannot resume it");
    }
    return Status();
  }
  if (!needed()) {
    return make_status(
        StatusCode::failed_precondition,
        "the checkpoint's run standardises its data; set standardize.mode as it was");
  }
  Status checked = check_standardization(saved, features_);
  if (!checked.ok()) return checked.with_context("the checkpoint's standardisation");
  if (!fixed_.empty() && !(saved == fixed_)) {
    return make_status(
        StatusCode::failed_precondition,
        "the checkpoint's standardisation differs from standardize.mean and standardize.deviation");
  }
  fixed_ = std::move(saved);
  return Status();
}

}  // namespace edgefl::server
