#include "xnn_arena.hpp"

#include <algorithm>
#include <cstring>

#ifdef EDGEFL_HAVE_XNNPACK
#include <xnnpack.h>
#endif

namespace edgefl {

namespace {

// The only mutable global: which arena XNNPACK's process-wide allocator serves on this thread.
// XNNPACK fixes its allocator at xnn_initialize, so routing per thread is the only way to give
// each Network its own arena.
thread_local XnnArena* t_current = nullptr;

constexpr std::size_t kDefaultAlignment = 64;

std::size_t round_up(std::size_t value, std::size_t alignment) {
  return (value + alignment - 1) / alignment * alignment;
}

void* malloc_aligned(std::size_t alignment, std::size_t size) {
  void* p = nullptr;
  if (posix_memalign(&p, std::max(alignment, sizeof(void*)), std::max<std::size_t>(size, 1)) != 0) {
    return nullptr;
  }
  return p;
}

}  // namespace

XnnArena::Scope::Scope(XnnArena& arena) : previous_(t_current) { t_current = &arena; }
XnnArena::Scope::~Scope() { t_current = previous_; }

void XnnArena::reserve(std::size_t bytes) {
  bytes = round_up(bytes, kDefaultAlignment);
  if (bytes <= capacity_) return;
  memory_.reset(static_cast<std::byte*>(malloc_aligned(kDefaultAlignment, bytes)));
  capacity_ = memory_ ? bytes : 0;
  used_ = 0;
}

bool XnnArena::owns(const void* pointer) const {
  auto* p = static_cast<const std::byte*>(pointer);
  return memory_ && p >= memory_.get() && p < memory_.get() + capacity_;
}

void* XnnArena::allocate(std::size_t size, std::size_t alignment) {
  virtual_used_ = round_up(virtual_used_, alignment) + size;
  needed_ = std::max(needed_, virtual_used_);
  ++live_;
  std::size_t start = round_up(used_, alignment);
  if (memory_ && start + size <= capacity_) {
    used_ = start + size;
    return memory_.get() + start;
  }
  ++overflows_;
  return malloc_aligned(alignment, size);
}

void* XnnArena::reallocate(void* pointer, std::size_t size) {
  if (pointer == nullptr) return allocate(size, kDefaultAlignment);
  if (!owns(pointer)) return std::realloc(pointer, size);
  void* fresh = allocate(size, kDefaultAlignment);
  if (fresh == nullptr) return nullptr;
  // The old block's size is not recorded; it lies inside [pointer, memory + used).
  std::size_t available = static_cast<std::size_t>(memory_.get() + used_ - static_cast<std::byte*>(pointer));
  std::memmove(fresh, pointer, std::min(size, available));
  deallocate(pointer);
  return fresh;
}

bool XnnArena::deallocate(void* pointer) {
  if (pointer == nullptr) return true;
  bool ours = owns(pointer);
  if (live_ > 0 && --live_ == 0) {
    used_ = 0;
    virtual_used_ = 0;
  }
  return ours;
}

void* XnnArena::c_allocate(void*, std::size_t size) {
  return t_current ? t_current->allocate(size, kDefaultAlignment) : std::malloc(size);
}
void* XnnArena::c_reallocate(void*, void* pointer, std::size_t size) {
  return t_current ? t_current->reallocate(pointer, size) : std::realloc(pointer, size);
}
void XnnArena::c_deallocate(void*, void* pointer) {
  if (t_current && t_current->deallocate(pointer)) return;
  std::free(pointer);
}
void* XnnArena::c_aligned_allocate(void*, std::size_t alignment, std::size_t size) {
  return t_current ? t_current->allocate(size, std::max(alignment, kDefaultAlignment))
                   : malloc_aligned(alignment, size);
}
void XnnArena::c_aligned_deallocate(void* context, void* pointer) { c_deallocate(context, pointer); }

const xnn_allocator* XnnArena::allocator() {
#ifdef EDGEFL_HAVE_XNNPACK
  static const xnn_allocator kAllocator{nullptr,      &c_allocate,         &c_reallocate,
                                        &c_deallocate, &c_aligned_allocate, &c_aligned_deallocate};
  return &kAllocator;
#else
  return nullptr;
#endif
}

}  // namespace edgefl
