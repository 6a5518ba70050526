// Forwarding header: moved to edgefl/config/option_table.hpp. Kept for one release (0.2); include the new path.
#pragma once
#include "edgefl/config/option_table.hpp"
