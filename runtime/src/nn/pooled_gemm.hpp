// direct_gemm on a pthreadpool, shared by the Dense kernels and the conv layers: C's rows are
// split into whole register tiles, one share per thread. Every element of C is computed the same
// way on any number of threads, so results do not depend on it. Work too small to share (a
// GEMM or a layer's pass of fewer multiply-adds than a threshold) stays on the calling thread:
// waking the pool costs microseconds, more than a small layer's pass gains from a second core.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#ifdef EDGEFL_HAVE_XNNPACK
#include <pthreadpool.h>
#endif

#include "direct_gemm.hpp"

typedef struct pthreadpool* pthreadpool_t;

namespace edgefl {

// task(begin, count) over [0, range) in tiles of `tile`, on the pool's threads (in any order)
// or, without a pool, here in order.
template <typename Task>
void for_each_tile(pthreadpool_t pool, std::size_t range, std::size_t tile, const Task& task) {
#ifdef EDGEFL_HAVE_XNNPACK
  if (pool != nullptr) {
    pthreadpool_parallelize_1d_tile_1d(pool, task, range, tile);
    return;
  }
#endif
  (void)pool;
  for (std::size_t begin = 0; begin < range; begin += tile) task(begin, std::min(tile, range - begin));
}

class PooledGemm {
 public:
  // pool: nullptr runs on the calling thread. gemm: the kernel for this CPU (select_direct_gemm).
  PooledGemm(pthreadpool_t pool, DirectGemm gemm) : pool_(pool), gemm_(gemm) {}

  // All of C; on the pool's threads when it is large enough to be worth waking them.
  void run(const GemmOperands& g) const;

  pthreadpool_t pool() const { return pool_; }
  std::size_t threads() const;
  const DirectGemm& kernel() const { return gemm_; }

  // How many shares a pass of `multiply_adds` is split into: 1 below the pass threshold, else
  // one per thread, at most max_tasks.
  std::size_t tasks_for(double multiply_adds, std::size_t max_tasks = SIZE_MAX) const;
  // task(begin, count) over [0, range) in `tasks` shares of ceil(range / tasks); on the pool's
  // threads when there are several, else here, once.
  template <typename Task>
  void for_each_share(std::size_t range, std::size_t tasks, const Task& task) const {
    if (tasks <= 1 || range <= 1) {
      if (range > 0) task(0, range);
      return;
    }
    for_each_tile(pool_, range, (range + tasks - 1) / tasks, task);
  }

 private:
  pthreadpool_t pool_;
  DirectGemm gemm_;
};

}  // namespace edgefl
