#include "pooled_gemm.hpp"

namespace edgefl {

namespace {

// Rows of C per task: whole register tiles, one share per thread.
std::size_t rows_per_task(pthreadpool_t pool, std::size_t tile, std::size_t rows) {
#ifdef EDGEFL_HAVE_XNNPACK
  const std::size_t threads = pool != nullptr ? pthreadpool_get_threads_count(pool) : 1;
#else
  (void)pool;
  const std::size_t threads = 1;
#endif
  const std::size_t tiles = (rows + tile - 1) / tile;
  return tile * std::max<std::size_t>(1, (tiles + threads - 1) / threads);
}

}  // namespace

void PooledGemm::run(const GemmOperands& g) const {
  if (pool_ == nullptr) {
    gemm_.run(g, 0, g.rows);
    return;
  }
  for_each_tile(pool_, g.rows, rows_per_task(pool_, gemm_.row_tile, g.rows),
                [&](std::size_t begin, std::size_t count) { gemm_.run(g, begin, begin + count); });
}

}  // namespace edgefl
