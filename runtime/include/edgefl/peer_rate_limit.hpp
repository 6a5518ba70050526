// Forwarding header: moved to edgefl/net/peer_rate_limit.hpp. Kept for one release (0.2); include the new path.
#pragma once
#include "edgefl/net/peer_rate_limit.hpp"
