// MemoryPlan (itemised fixed bytes, per-sample bytes, micro-batch) and available_memory_bytes
// against fake /proc and cgroup files.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

#include "edgefl/train/memory_plan.hpp"
#include "edgefl/train/trainer.hpp"
#include "temp_dir.hpp"

using namespace edgefl;
namespace fs = std::filesystem;

namespace {

constexpr uint64_t MB = uint64_t{1} << 20;

// A fresh directory of fake /proc and cgroup files, removed at the end.
struct FakeSystem {
  FakeSystem() {
    probe.meminfo = (root / "meminfo").string();
    probe.self_cgroup = (root / "self_cgroup").string();
    probe.cgroup_root = (root / "cgroup").string();
    probe.safety_fraction = 0.1;
    probe.safety_min_bytes = 0;
  }
  void write(const fs::path& relative, const std::string& text) {
    fs::create_directories((root / relative).parent_path());
    std::ofstream(root / relative) << text;
  }
  void meminfo(uint64_t available_kb) {
    write("meminfo", "MemTotal:        8000000 kB\nMemFree:          100000 kB\nMemAvailable:    " +
                         std::to_string(available_kb) + " kB\nBuffers:           2000 kB\n");
  }
  edgefl::testing::TempDir dir;
  fs::path root{dir.path()};
  MemoryProbe probe;
};

}  // namespace

TEST_CASE("the memory plan itemises fixed bytes and fits the largest micro-batch") {
  MemoryPlanRequest req;
  req.spec = ModelSpec::parse("mlp:784-256-10:relu").value();
  req.backend = Backend::reference;
  req.optimizer = OptimizerKind::adamw;
  req.global_copy = true;
  req.codec_bytes = 300000;
  req.receive_bytes = 900000;
  req.dataset_bytes = 785 * 15000;
  const std::size_t P = req.spec.parameter_count();
  auto plan = plan_memory(req, 64 * MB);
  REQUIRE(plan.ok());
  CHECK(plan->parameter_bytes == 4 * P);
  CHECK(plan->gradient_bytes == 4 * P);
  CHECK(plan->optimizer_bytes == 8 * P);
  CHECK(plan->global_copy_bytes == 4 * P);
  CHECK(plan->statistics_bytes == 0);
  CHECK(plan->fixed_bytes == 20 * P + 300000 + 900000 + 785 * 15000 + plan->workspace_bytes);
  CHECK(plan->per_sample_bytes == activation_bytes_per_sample(req.spec, req.backend));
  CHECK(plan->reserve_bytes == 64 * MB / 12);
  CHECK(plan->max_micro_batch == (64 * MB - plan->reserve_bytes - plan->fixed_bytes) / plan->per_sample_bytes);
  CHECK(plan->describe().find("micro-batch " + std::to_string(plan->max_micro_batch)) != std::string::npos);

  // The network really built for that micro-batch stays inside the planned bytes.
  for (Backend backend : {Backend::reference, Backend::xnnpack, Backend::direct}) {
    auto ctx = ComputeContext::create(backend, 1);
    REQUIRE(ctx.ok());
    req.backend = (*ctx)->backend();
    auto p = plan_memory(req, 24 * MB);
    REQUIRE(p.ok());
    auto net = Network::create(req.spec, **ctx, {p->max_micro_batch, true});
    REQUIRE(net.ok());
    CHECK((*net)->workspace_bytes() <= p->workspace_bytes + p->per_sample_bytes * p->max_micro_batch);
  }

  // The augmented inner-product test needs a second-pass gradient and per-sample scratch.
  req.backend = Backend::reference;
  req.batch_test = BatchTest::augmented_inner_product;
  auto with_test = plan_memory(req, 64 * MB);
  REQUIRE(with_test.ok());
  CHECK(with_test->statistics_bytes == 4 * P);
  CHECK(with_test->per_sample_bytes > plan->per_sample_bytes);
  CHECK(with_test->max_micro_batch < plan->max_micro_batch);

  req.batch_limit = 100;
  CHECK(plan_memory(req, 64 * MB)->max_micro_batch == 100);
}

TEST_CASE("a budget below one sample is refused with the bytes needed") {
  MemoryPlanRequest req;
  req.spec = ModelSpec::parse("mlp:784-128-10:relu").value();
  req.optimizer = OptimizerKind::momentum;
  auto fits = plan_memory(req, 256 * MB);
  REQUIRE(fits.ok());
  const std::size_t one = fits->fixed_bytes + fits->per_sample_bytes;
  auto exact = plan_memory(req, one);
  REQUIRE(exact.ok());
  CHECK(exact->max_micro_batch == 1);
  auto small = plan_memory(req, one - 1);
  CHECK(small.status().code() == StatusCode::resource_exhausted);
  CHECK(small.status().message().find("too small: need at least") != std::string::npos);
  CHECK(plan_memory(MemoryPlanRequest{}, 256 * MB).status().code() == StatusCode::invalid_argument);
}

TEST_CASE("available memory: MemAvailable alone, minus the safety margin") {
  FakeSystem sys;
  sys.meminfo(1024 * 1024);  // 1 GiB
  auto bytes = available_memory_bytes(sys.probe);
  REQUIRE(bytes.ok());
  CHECK(*bytes == 1024 * MB - 1024 * MB / 10);
  sys.probe.safety_min_bytes = 200 * MB;  // the floor wins over 10 %
  CHECK(available_memory_bytes(sys.probe).value() == 824 * MB);
  sys.probe.safety_min_bytes = 2048 * MB;
  CHECK(available_memory_bytes(sys.probe).value() == 0);
}

TEST_CASE("available memory: cgroup v2 limit on an ancestor of the process's cgroup") {
  FakeSystem sys;
  sys.meminfo(1024 * 1024);
  sys.write("self_cgroup", "0::/edge.slice/device.scope\n");
  sys.write("cgroup/edge.slice/memory.max", std::to_string(200 * MB) + "\n");
  sys.write("cgroup/edge.slice/memory.current", std::to_string(50 * MB) + "\n");
  sys.write("cgroup/edge.slice/device.scope/memory.max", "max\n");
  sys.write("cgroup/edge.slice/device.scope/memory.current", std::to_string(40 * MB) + "\n");
  CHECK(available_memory_bytes(sys.probe).value() == 150 * MB - 15 * MB);
  sys.write("cgroup/edge.slice/device.scope/memory.max", std::to_string(100 * MB) + "\n");  // tighter
  CHECK(available_memory_bytes(sys.probe).value() == 60 * MB - 6 * MB);
  sys.write("cgroup/edge.slice/memory.max", "lots\n");
  CHECK(available_memory_bytes(sys.probe).status().code() == StatusCode::corrupt);
}

TEST_CASE("available memory: cgroup v1 memory controller, unlimited and limited") {
  FakeSystem sys;
  sys.meminfo(512 * 1024);
  sys.write("self_cgroup", "5:cpu,cpuacct:/docker/abc\n4:memory:/docker/abc\n0::/\n");
  sys.write("cgroup/memory/docker/abc/memory.limit_in_bytes", "9223372036854771712\n");
  sys.write("cgroup/memory/docker/abc/memory.usage_in_bytes", std::to_string(20 * MB) + "\n");
  auto unlimited = available_memory_bytes(sys.probe);
  REQUIRE(unlimited.ok());
  CHECK(*unlimited == 512 * MB - 512 * MB / 10);
  sys.write("cgroup/memory/docker/abc/memory.limit_in_bytes", std::to_string(100 * MB) + "\n");
  CHECK(available_memory_bytes(sys.probe).value() == 80 * MB - 8 * MB);
}

TEST_CASE("available memory: missing or malformed /proc/meminfo is an error") {
  FakeSystem sys;
  CHECK(available_memory_bytes(sys.probe).status().code() == StatusCode::not_found);
  sys.write("meminfo", "MemTotal: 100 kB\nMemFree: 50 kB\n");
  CHECK(available_memory_bytes(sys.probe).status().code() == StatusCode::corrupt);
  sys.write("meminfo", "MemAvailable: many kB\n");
  CHECK(available_memory_bytes(sys.probe).status().code() == StatusCode::corrupt);
  sys.meminfo(1000);
  sys.probe.safety_fraction = 1.5;
  CHECK(available_memory_bytes(sys.probe).status().code() == StatusCode::invalid_argument);
  // The real machine answers.
  auto real = available_memory_bytes();
  REQUIRE(real.ok());
  CHECK(*real > 0);
}

TEST_CASE("the planned micro-batch b is the largest that fits: plan(b) <= budget < plan(b + 1)") {
  const char* const specs[] = {
      "mlp:784-256-128-10:relu",
      "in:28x28x1 conv3x3x8 relu maxpool2 conv3x3x16 relu maxpool2 flatten dense10 loss:xent",
      "in:28x28x1 conv5x5x32 relu maxpool2 conv5x5x64 relu maxpool2 flatten dense512 relu dense10 loss:xent",
      "in:49x10x1 conv10x4x64,s2 relu dwconv3x3 relu conv1x1x64 relu dropout0.2 gap dense12 loss:xent",
  };
  for (const char* text : specs) {
    auto spec = ModelSpec::parse(text);
    REQUIRE(spec.ok());
    for (Backend backend : {Backend::reference, Backend::xnnpack, Backend::direct}) {
      auto ctx = ComputeContext::create(backend, 1);
      REQUIRE(ctx.ok());
      MemoryPlanRequest req;
      req.spec = *spec;
      req.backend = (*ctx)->backend();
      req.optimizer = OptimizerKind::adamw;
      req.global_copy = true;
      for (std::size_t budget : {std::size_t{64} * MB}) {
        auto plan = plan_memory(req, budget);
        REQUIRE_MESSAGE(plan.ok(), plan.status().to_string());
        const std::size_t b = plan->max_micro_batch;
        auto bytes = [&](std::size_t micro) { return plan->reserve_bytes + plan->fixed_bytes + micro * plan->per_sample_bytes; };
        INFO(std::string(text) << " " << backend_name(backend) << " budget " << budget << " micro-batch " << b);
        CHECK(b >= 1);
        CHECK(bytes(b) <= budget);
        CHECK(bytes(b + 1) > budget);
        // The network really built at b stays inside its share of the plan.
        auto net = Network::create(*spec, **ctx, {b, true});
        REQUIRE(net.ok());
        CHECK((*net)->workspace_bytes() <= plan->workspace_bytes + b * plan->per_sample_bytes);
        CHECK((*net)->workspace_bytes() * 2 >= plan->workspace_bytes + b * plan->per_sample_bytes);
      }
    }
  }
}

TEST_CASE("with frozen layers the plan keeps optimizer state, codec buffers and the update for the trainable parameters") {
  const ModelSpec spec = ModelSpec::parse("mlp:784-256-10:relu").value();
  const std::size_t P = spec.parameter_count(), head = 256 * 10 + 10;
  const MemoryPlanRequest all = task_memory_request(spec, Backend::reference, OptimizerKind::adamw, BatchTest::none,
                                                    0, true, 900000, 0, 0);
  const MemoryPlanRequest frozen = task_memory_request(spec, Backend::reference, OptimizerKind::adamw,
                                                       BatchTest::none, 0, true, 900000, 0, 0, head);
  CHECK(all.codec_bytes == 2 * 4 * P);
  CHECK(frozen.codec_bytes == 2 * 4 * head);
  CHECK(frozen.send_bytes < all.send_bytes);
  auto all_plan = plan_memory(all, 64 * MB), frozen_plan = plan_memory(frozen, 64 * MB);
  REQUIRE(all_plan.ok());
  REQUIRE(frozen_plan.ok());
  CHECK(all_plan->optimizer_bytes == 8 * P);
  CHECK(frozen_plan->optimizer_bytes == 8 * head);  // adamw: m and v of the head only
  CHECK(frozen_plan->gradient_bytes == 4 * P);      // gradients keep the full layout
  CHECK(frozen_plan->max_micro_batch >= all_plan->max_micro_batch);
}
