// Forwarding header: moved to edgefl/net/memory_channel.hpp. Kept for one release (0.2); include the new path.
#pragma once
#include "edgefl/net/memory_channel.hpp"
