#include "join_check.hpp"

#include "edgefl/adaptive_batch.hpp"
#include "edgefl/memory_plan.hpp"
#include "edgefl/optimizer.hpp"

namespace edgefl::server {

namespace {

// An edgefl-device's resident size before data and training state (code, libraries, ZeroMQ),
// measured on x86-64 and aarch64: the fit check adds it to the device's plan.
constexpr std::size_t kTypicalDeviceProcessBytes = std::size_t{8} << 20;

}  // namespace

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
  if (capabilities.sample_count > kMaxDeclaredSamples) {
    return make_status(StatusCode::out_of_range, "declared sample_count " + std::to_string(capabilities.sample_count) +
                                                     " is above " + std::to_string(kMaxDeclaredSamples));
  }
  return check_fits(capabilities);
}

Status JoinCheck::check_fits(const Capabilities& capabilities) const {
  if (capabilities.memory_budget_bytes == 0) return Status();  // the device sizes itself
  Result<OptimizerKind> optimizer = parse_optimizer(config_->train.optimizer);
  Result<BatchTest> test = parse_batch_test(config_->adaptive_batch.test);
  if (!optimizer || !test) return make_status(StatusCode::internal, "validated settings failed to parse");
  const std::size_t message_bytes = spec_->parameter_count() * sizeof(float) + 4096;
  // One byte per feature: the smallest a stored sample can be (bounded above, no overflow).
  const std::size_t dataset_bytes = capabilities.sample_count * spec_->input_size();
  MemoryPlanRequest request =
      task_memory_request(*spec_, Backend::xnnpack, *optimizer, *test, config_->adaptive_batch.max_batch,
                          config_->codec.name != "f32", message_bytes, dataset_bytes, kTypicalDeviceProcessBytes);
  Result<MemoryPlan> plan = plan_memory(request, capabilities.memory_budget_bytes);
  return plan.ok() ? Status() : plan.status();
}

}  // namespace edgefl::server
