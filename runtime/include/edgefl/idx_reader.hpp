// Forwarding header: moved to edgefl/data/idx_reader.hpp. Kept for one release (0.2); include the new path.
#pragma once
#include "edgefl/data/idx_reader.hpp"
