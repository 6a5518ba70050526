// Forwarding header: moved to edgefl/aggregate/strategy_state.hpp. Kept for one release (0.2); include the new path.
#pragma once
#include "edgefl/aggregate/strategy_state.hpp"
