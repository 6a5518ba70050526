#include "pooled_gemm.hpp"

namespace edgefl {

namespace {

// Multiply-adds below which a GEMM runs on the calling thread: waking the pool costs
// microseconds, and the conv layers run many small GEMMs (every output is computed the same
// way either way).
constexpr double kPoolMinimum = 1 << 18;

// The same for a conv layer's whole pass, which runs many such GEMMs (or the lane kernel's
// tiles) in one dispatch. Measured with the small CNN on a 2-vCPU EPYC: at 2^21 and above a
// pass gains from a second thread, below it the pool's wake-up and the wait for the slower
// share cost more than half the pass.
constexpr double kPassMinimum = 1 << 21;

}  // namespace

std::size_t PooledGemm::threads() const {
#ifdef EDGEFL_HAVE_XNNPACK
  return pool_ != nullptr ? pthreadpool_get_threads_count(pool_) : 1;
#else
  return 1;
#endif
}

std::size_t PooledGemm::tasks_for(double multiply_adds, std::size_t max_tasks) const {
  if (multiply_adds < kPassMinimum) return 1;
  return std::max<std::size_t>(1, std::min(threads(), max_tasks));
}

void PooledGemm::run(const GemmOperands& g) const {
  const std::size_t threads = this->threads();
  if (threads == 1 || double(g.rows) * double(g.cols) * double(g.inner) < kPoolMinimum) {
    gemm_.run(g, 0, g.rows);
    return;
  }
  // Rows of C per task: whole register tiles, one share per thread.
  const std::size_t tile = gemm_.row_tile, tiles = (g.rows + tile - 1) / tile;
  const std::size_t rows = tile * std::max<std::size_t>(1, (tiles + threads - 1) / threads);
  for_each_tile(pool_, g.rows, rows, [&](std::size_t begin, std::size_t count) { gemm_.run(g, begin, begin + count); });
}

}  // namespace edgefl
