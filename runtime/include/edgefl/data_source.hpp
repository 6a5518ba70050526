// Forwarding header: moved to edgefl/data/data_source.hpp. Kept for one release (0.2); include the new path.
#pragma once
#include "edgefl/data/data_source.hpp"
