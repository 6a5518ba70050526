// Reads a whole (small enough) file into memory, refusing files above a size limit before
// reading a byte of them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "edgefl/base/status.hpp"

namespace edgefl {

// Errors: not_found, io_error, too_large (over max_bytes), each naming the path.
Result<std::vector<uint8_t>> read_file_bytes(const std::string& path, std::size_t max_bytes);

}  // namespace edgefl
