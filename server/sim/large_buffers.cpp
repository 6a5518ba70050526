#include "large_buffers.hpp"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace edgefl::sim {

void keep_large_buffers_in_own_mappings(std::size_t bytes) {
#if defined(__GLIBC__)
  // Setting it also turns off the dynamic raise (mallopt(3)).
  (void)mallopt(M_MMAP_THRESHOLD, static_cast<int>(bytes));
#else
  (void)bytes;
#endif
}

}  // namespace edgefl::sim
