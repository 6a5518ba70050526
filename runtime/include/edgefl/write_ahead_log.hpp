// Forwarding header: moved to edgefl/store/write_ahead_log.hpp. Kept for one release (0.2); include the new path.
#pragma once
#include "edgefl/store/write_ahead_log.hpp"
