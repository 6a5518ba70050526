// Forwarding header: moved to edgefl/store/fault_file_system.hpp. Kept for one release (0.2); include the new path.
#pragma once
#include "edgefl/store/fault_file_system.hpp"
