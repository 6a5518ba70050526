// Large buffers in mappings of their own, so that freeing one gives its memory back at once.
//
// glibc's malloc serves a block above its mmap threshold from a mapping of its own, returned
// to the kernel on free, but raises the threshold to the size of any such block freed: after
// that, the simulation's megabyte-sized Tasks, Updates and ZeroMQ messages come from its heaps
// (one per thread group), where freed blocks stay resident. A thousand devices passing a
// round's messages through them left the process at 2.9-3.1 GB peak RSS; with the threshold
// fixed, 1.5-1.7 GB, for more time (each buffer's pages are mapped and zeroed afresh: 49-73 CPU
// seconds for 3 rounds instead of 40-45; docs/scale.md).
#pragma once

#include <cstddef>

namespace edgefl::sim {

// Fixes the mmap threshold at `bytes` (no effect outside glibc).
void keep_large_buffers_in_own_mappings(std::size_t bytes = std::size_t{256} << 10);

}  // namespace edgefl::sim
