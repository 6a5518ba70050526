#include "pooled_gemm.hpp"

namespace edgefl {

namespace {

// Multiply-adds below which a dispatch (a GEMM, or a conv layer's pass of many small GEMMs or
// lane tiles) runs on the calling thread (every output is computed the same way either way).
// Waking the pool and waiting for its slower share costs microseconds on idle cores, and a
// whole scheduler slice when another process holds one; 2^22 is about 60 us of work on one
// AVX-512 core, so a second thread saves tens of microseconds where it is used, and the small
// CNN's step at batch 32 dispatches twice instead of about 30 times (docs/compute.md).
constexpr double kPoolMinimum = 1 << 22;

}  // namespace

std::size_t PooledGemm::threads() const {
#ifdef EDGEFL_HAVE_XNNPACK
  return pool_ != nullptr ? pthreadpool_get_threads_count(pool_) : 1;
#else
  return 1;
#endif
}

std::size_t PooledGemm::tasks_for(double multiply_adds, std::size_t max_tasks) const {
  if (threads() == 1 || multiply_adds < kPoolMinimum) return 1;
  return std::max<std::size_t>(1, std::min(threads(), max_tasks));
}

void PooledGemm::run(const GemmOperands& g) const {
  const std::size_t threads = tasks_for(double(g.rows) * double(g.cols) * double(g.inner));
  if (threads == 1) {
    gemm_.run(g, 0, g.rows);
    return;
  }
  // Rows of C per task: whole register tiles, one share per thread.
  const std::size_t tile = gemm_.row_tile, tiles = (g.rows + tile - 1) / tile;
  const std::size_t rows = tile * std::max<std::size_t>(1, (tiles + threads - 1) / threads);
  for_each_tile(pool_, g.rows, rows, [&](std::size_t begin, std::size_t count) { gemm_.run(g, begin, begin + count); });
}

}  // namespace edgefl
