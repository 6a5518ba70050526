// Forwarding header: moved to edgefl/net/curve.hpp. Kept for one release (0.2); include the new path.
#pragma once
#include "edgefl/net/curve.hpp"
