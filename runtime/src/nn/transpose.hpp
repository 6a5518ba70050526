// Cache-blocked matrix transpose for the Dense kernels: dst[c][r] = src[r][c] for a row-major
// src of rows x cols. 4x4 register tiles inside 32x32 blocks; scalar copies at the edges.
#pragma once

#include <cstddef>

namespace edgefl {

void transpose(const float* src, float* dst, std::size_t rows, std::size_t cols);

}  // namespace edgefl
