// The process's open-file limit. A server holding 1000 device connections needs a descriptor
// per connection besides its own files, and a simulation twice that (both ends of every link
// live in one process), more than the common soft default of 1024.
//
//   Result<uint64_t> limit = edgefl::raise_open_file_limit();   // soft limit up to the hard one
//
// Only the soft limit moves: raising the hard one needs privileges (systemd: LimitNOFILE=).
#pragma once

#include <cstdint>

#include "edgefl/base/status.hpp"

namespace edgefl {

// Raises RLIMIT_NOFILE's soft limit to its hard limit; returns the soft limit now in force.
Result<uint64_t> raise_open_file_limit();

}  // namespace edgefl
