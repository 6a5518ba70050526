// Forwarding header: moved to edgefl/aggregate/exact_mean.hpp. Kept for one release (0.2); include the new path.
#pragma once
#include "edgefl/aggregate/exact_mean.hpp"
