// Forwarding header: moved to edgefl/aggregate/update_checks.hpp. Kept for one release (0.2); include the new path.
#pragma once
#include "edgefl/aggregate/update_checks.hpp"
