// Forwarding header: moved to edgefl/store/atomic_file.hpp. Kept for one release (0.2); include the new path.
#pragma once
#include "edgefl/store/atomic_file.hpp"
