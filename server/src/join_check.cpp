#include "join_check.hpp"

#include "edgefl/codec/codec.hpp"
#include "edgefl/train/memory_plan.hpp"

namespace edgefl::server {

Status check_device_id(const std::string& id) {
  bool printable = !id.empty() && id.size() <= kMaxDeviceIdBytes;
  for (char c : id) printable = printable && c > 0x20 && c < 0x7f;
  if (printable) return Status();
  return make_status(StatusCode::invalid_argument,
                     "a device id is 1 to " + std::to_string(kMaxDeviceIdBytes) +
                         " printable ASCII characters without spaces (got " + std::to_string(id.size()) + " bytes)");
}

Status JoinCheck::check(const std::string& id, const Capabilities& capabilities) const {
  EDGEFL_RETURN_IF_ERROR(check_device_id(id));
  if (capabilities.dataset_bytes > kMaxDeclaredBytes || capabilities.process_bytes > kMaxDeclaredBytes) {
    return make_status(StatusCode::out_of_range, "declared dataset or process bytes above 2^50");
  }
  if (capabilities.sample_count > kMaxDeclaredSamples) {
    return make_status(StatusCode::out_of_range, "declared sample_count " + std::to_string(capabilities.sample_count) +
                                                     " is above " + std::to_string(kMaxDeclaredSamples));
  }
  EDGEFL_RETURN_IF_ERROR(check_codec(capabilities));
  return check_fits(capabilities);
}

Status JoinCheck::check_codec(const Capabilities& capabilities) const {
  // Every device implements f32; the list names what else it can upload (empty: f32 only).
  const CodecKind upload = config_->codec.kind;
  if (upload == CodecKind::f32) return Status();
  for (CodecKind codec : capabilities.codecs) {
    if (codec == upload) return Status();
  }
  return make_status(StatusCode::failed_precondition, "this run uploads with codec '" +
                                                          std::string(codec_name(upload)) +
                                                          "', which the device does not declare");
}

Status JoinCheck::check_fits(const Capabilities& capabilities) const {
  // The device plans with its own backend, data and process size (protocol 1.2). A device that
  // does not say them (1.1), or sizes itself from what is free, checks its own plan at start.
  if (capabilities.memory_budget_bytes == 0 || capabilities.backend == 0) return Status();
  const std::size_t message_bytes = spec_->parameter_count() * sizeof(float) + 4096;
  const auto backend = static_cast<Backend>(capabilities.backend - 1);
  MemoryPlanRequest request = task_memory_request(
      *spec_, backend, config_->train.optimizer, config_->adaptive_batch.test, config_->adaptive_batch.cap,
      config_->codec.kind != CodecKind::f32,
      message_bytes, capabilities.dataset_bytes, capabilities.process_bytes);
  Result<MemoryPlan> plan = plan_memory(request, capabilities.memory_budget_bytes);
  return plan.ok() ? Status() : plan.status();
}

}  // namespace edgefl::server
