// Forwarding header: moved to edgefl/train/memory_plan.hpp. Kept for one release (0.2); include the new path.
#pragma once
#include "edgefl/train/memory_plan.hpp"
