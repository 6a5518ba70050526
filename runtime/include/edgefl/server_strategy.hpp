// Forwarding header: moved to edgefl/aggregate/server_strategy.hpp. Kept for one release (0.2); include the new path.
#pragma once
#include "edgefl/aggregate/server_strategy.hpp"
