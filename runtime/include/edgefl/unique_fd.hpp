// Forwarding header: moved to edgefl/base/unique_fd.hpp. Kept for one release (0.2); include the new path.
#pragma once
#include "edgefl/base/unique_fd.hpp"
