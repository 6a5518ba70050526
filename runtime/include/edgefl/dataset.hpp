// Forwarding header: moved to edgefl/data/dataset.hpp. Kept for one release (0.2); include the new path.
#pragma once
#include "edgefl/data/dataset.hpp"
