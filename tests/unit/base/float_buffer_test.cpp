#include <doctest/doctest.h>

#include <cstdint>
#include <utility>

#include "edgefl/base/float_buffer.hpp"

using edgefl::FloatBuffer;

TEST_CASE("float buffer: zero-filled, aligned, with readable slack") {
  FloatBuffer buffer(1001);
  REQUIRE(buffer.size() == 1001);
  CHECK(reinterpret_cast<std::uintptr_t>(buffer.data()) % FloatBuffer::kAlignment == 0);
  for (std::size_t i = 0; i < buffer.size(); ++i) REQUIRE(buffer[i] == 0.0f);
  // The slack past the end is allocated and zeroed, so kernels may over-read it.
  for (std::size_t i = 0; i < FloatBuffer::kSlackBytes / sizeof(float); ++i) {
    REQUIRE(buffer.data()[buffer.size() + i] == 0.0f);
  }
}

TEST_CASE("float buffer: clone is deep, move empties the source") {
  FloatBuffer a(4);
  a.fill(2.5f);
  FloatBuffer b = a.clone();
  b[0] = 1.0f;
  CHECK(a[0] == 2.5f);
  FloatBuffer c = std::move(a);
  CHECK(a.empty());
  CHECK(c.size() == 4);
  CHECK(c[3] == 2.5f);
}
