// XnnArena: where XNNPACK's per-step allocations (operator structs, packed operands) go, so a
// training step performs no heap allocation.
//
// XNNPACK takes one allocator for the whole process at xnn_initialize. Ours forwards to the
// arena made current on this thread by an XnnArena::Scope, and to malloc outside any scope.
// Inside a scope the arena is a bump allocator that rewinds when its last block is freed (the
// kernels create and delete one operator at a time). Requests that do not fit go to malloc and
// are counted, so prepare() can measure what a step needs and size the arena from it.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <memory>

struct xnn_allocator;

namespace edgefl {

class XnnArena {
 public:
  // Makes `arena` current on this thread for the lifetime of the scope.
  class Scope {
   public:
    explicit Scope(XnnArena& arena);
    ~Scope();
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    XnnArena* previous_;
  };

  void reserve(std::size_t bytes);
  std::size_t capacity() const { return capacity_; }
  // Largest bump offset any scope needed (including requests that overflowed to malloc).
  std::size_t needed() const { return needed_; }
  std::size_t overflows() const { return overflows_; }

  // The allocator handed to xnn_initialize.
  static const xnn_allocator* allocator();

 private:
  struct Free {
    void operator()(void* p) const { std::free(p); }
  };
  void* allocate(std::size_t size, std::size_t alignment);
  void* reallocate(void* pointer, std::size_t size);
  bool deallocate(void* pointer);  // false when the pointer is not ours
  bool owns(const void* pointer) const;

  static void* c_allocate(void* context, std::size_t size);
  static void* c_reallocate(void* context, void* pointer, std::size_t size);
  static void c_deallocate(void* context, void* pointer);
  static void* c_aligned_allocate(void* context, std::size_t alignment, std::size_t size);
  static void c_aligned_deallocate(void* context, void* pointer);

  std::unique_ptr<std::byte, Free> memory_;
  std::size_t capacity_ = 0;
  std::size_t used_ = 0;
  std::size_t virtual_used_ = 0;  // as if the arena were unbounded
  std::size_t live_ = 0;
  std::size_t needed_ = 0;
  std::size_t overflows_ = 0;
};

}  // namespace edgefl
