// Forwarding header: moved to edgefl/net/transport.hpp. Kept for one release (0.2); include the new path.
#pragma once
#include "edgefl/net/transport.hpp"
