// Proves a training step allocates nothing once training has started: this binary replaces
// operator new and (outside sanitizer builds, whose runtime owns malloc) malloc and friends with
// counting versions. XNNPACK's own allocations go through malloc/posix_memalign, so they count too.
#include <doctest/doctest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "edgefl/nn/model.hpp"
#include "edgefl/data/synthetic.hpp"
#include "edgefl/train/trainer.hpp"

namespace {
std::atomic<bool> g_counting{false};
std::atomic<long> g_allocations{0};
void note() {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1, std::memory_order_relaxed);
}
}  // namespace

#if defined(__SANITIZE_ADDRESS__)
#define EDGEFL_COUNT_MALLOC 0
#else
#define EDGEFL_COUNT_MALLOC 1
extern "C" {
void* __libc_malloc(size_t);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void* __libc_memalign(size_t, size_t);
void __libc_free(void*);
void* malloc(size_t size) { note(); return __libc_malloc(size); }
void* calloc(size_t n, size_t size) { note(); return __libc_calloc(n, size); }
void* realloc(void* p, size_t size) { note(); return __libc_realloc(p, size); }
void free(void* p) { __libc_free(p); }
void* aligned_alloc(size_t alignment, size_t size) { note(); return __libc_memalign(alignment, size); }
void* memalign(size_t alignment, size_t size) { note(); return __libc_memalign(alignment, size); }
int posix_memalign(void** out, size_t alignment, size_t size) {
  note();
  *out = __libc_memalign(alignment, size);
  return *out ? 0 : ENOMEM;
}
}
#endif

namespace {
void* raw_malloc(std::size_t size) {
#if EDGEFL_COUNT_MALLOC
  return __libc_malloc(size);
#else
  return std::malloc(size);
#endif
}
}  // namespace

void* operator new(std::size_t size) {
  note();
  if (void* p = raw_malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return operator new(size); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

using namespace edgefl;

TEST_CASE("adaptive batches and PALSGD allocate only the trajectory once per train() call") {
  auto data = make_blobs({10, 784, 300, 1.0f, 1.0f, 4});
  auto spec = ModelSpec::parse("mlp:784-64-10:relu");
  REQUIRE(spec.ok());
  for (Backend backend : {Backend::direct, Backend::xnnpack, Backend::reference}) {
    auto ctx = ComputeContext::create(backend, 1);
    REQUIRE(ctx.ok());
    auto trainer = LocalTrainer::create(*spec, **ctx, {32, true});
    REQUIRE(trainer.ok());
    FloatBuffer params = Model::create(*spec, 1).value().params().clone(), global = params.clone();
    TrainConfig cfg;
    cfg.optimizer = {OptimizerKind::adamw, 0.001f};
    cfg.batch_size = 40;
    cfg.local_steps = 2;
    cfg.adaptive = {BatchTest::augmented_inner_product, 0.1, 0.1, 0.1, 200, 1};
    cfg.palsgd = {0.3f, 1.0f, 0};
    DatasetView view(*data);
    REQUIRE((*trainer)->train(params.span(), view, cfg, global.span()).ok());

    g_allocations = 0;
    g_counting = true;
    cfg.local_steps = 6;
    auto m = (*trainer)->train(params.span(), view, cfg, global.span());
    g_counting = false;
    REQUIRE(m.ok());
    CHECK(m->batch_tests > 0);
    INFO(backend_name(backend) << " counting malloc: " << EDGEFL_COUNT_MALLOC);
    CHECK(g_allocations.load() == 1);  // metrics.batch_sizes.reserve
  }
}

TEST_CASE("no heap allocation inside training steps once training has started") {
  auto data = make_blobs({10, 784, 300, 1.0f, 1.0f, 4});
  auto spec = ModelSpec::parse("mlp:784-256-128-10:relu");
  REQUIRE(spec.ok());
  for (Backend backend : {Backend::direct, Backend::xnnpack, Backend::reference}) {
    for (OptimizerKind kind : {OptimizerKind::nesterov, OptimizerKind::adamw}) {
      auto ctx = ComputeContext::create(backend, 1);
      REQUIRE(ctx.ok());
      auto trainer = LocalTrainer::create(*spec, **ctx, {32, true});
      REQUIRE(trainer.ok());
      FloatBuffer params = Model::create(*spec, 1).value().params().clone();
      TrainConfig cfg;
      cfg.optimizer = {kind, 0.01f};
      cfg.batch_size = 64;  // two micro-batches: accumulation is on the path too
      cfg.local_steps = 2;
      DatasetView view(*data);
      REQUIRE((*trainer)->train(params.span(), view, cfg).ok());  // training has started

      g_allocations = 0;
      g_counting = true;
      cfg.local_steps = 5;
      cfg.batch_size = 50;  // a different, uneven split of micro-batches
      auto m = (*trainer)->train(params.span(), view, cfg);
      g_counting = false;
      REQUIRE(m.ok());
      CHECK(m->steps == 5);
      INFO(backend_name(backend) << " " << optimizer_name(kind) << " counting malloc: " << EDGEFL_COUNT_MALLOC);
      CHECK(g_allocations.load() == 0);
    }
  }
  // The counter works: an allocation while counting is seen.
  g_allocations = 0;
  g_counting = true;
  auto* p = new int(3);
  g_counting = false;
  delete p;
  CHECK(g_allocations.load() == 1);
}

TEST_CASE("a conv model trains without heap allocation, with accumulation, dropout and the batch tests") {
  auto data = make_blobs({10, 196, 300, 1.0f, 1.0f, 4});
  auto spec = ModelSpec::parse(
      "in:14x14x1 conv3x3x8 relu maxpool2 dwconv3x3,s2 relu6 conv1x1x5 relu dropout0.2 flatten dense10 loss:xent");
  REQUIRE(spec.ok());
  for (Backend backend : {Backend::direct, Backend::xnnpack, Backend::reference}) {
    for (BatchTest test : {BatchTest::none, BatchTest::augmented_inner_product}) {
      auto ctx = ComputeContext::create(backend, 1);
      REQUIRE(ctx.ok());
      auto trainer = LocalTrainer::create(*spec, **ctx, {16, true});
      REQUIRE(trainer.ok());
      FloatBuffer params = Model::create(*spec, 1).value().params().clone();
      TrainConfig cfg;
      cfg.optimizer = {OptimizerKind::adamw, 0.01f};
      cfg.batch_size = 40;  // three micro-batches
      cfg.local_steps = 2;
      cfg.adaptive = {test, 0.1, 0.1, 0.1, 200, 1};
      DatasetView view(*data);
      REQUIRE((*trainer)->train(params.span(), view, cfg).ok());

      g_allocations = 0;
      g_counting = true;
      cfg.local_steps = 4;
      auto m = (*trainer)->train(params.span(), view, cfg);
      g_counting = false;
      REQUIRE(m.ok());
      INFO(backend_name(backend) << " " << batch_test_name(test) << " counting malloc: " << EDGEFL_COUNT_MALLOC);
      CHECK(g_allocations.load() == (test == BatchTest::none ? 0 : 1));  // metrics.batch_sizes.reserve
    }
  }
}
