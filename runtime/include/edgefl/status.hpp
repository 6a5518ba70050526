// Forwarding header: moved to edgefl/base/status.hpp. Kept for one release (0.2); include the new path.
#pragma once
#include "edgefl/base/status.hpp"
