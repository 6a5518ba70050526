// Forwarding header: moved to edgefl/base/rng.hpp. Kept for one release (0.2); include the new path.
#pragma once
#include "edgefl/base/rng.hpp"
