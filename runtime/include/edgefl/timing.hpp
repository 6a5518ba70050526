// Forwarding header: moved to edgefl/base/timing.hpp. Kept for one release (0.2); include the new path.
#pragma once
#include "edgefl/base/timing.hpp"
