// Forwarding header: moved to edgefl/net/fault_transport.hpp. Kept for one release (0.2); include the new path.
#pragma once
#include "edgefl/net/fault_transport.hpp"
