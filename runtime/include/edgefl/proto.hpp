// Forwarding header: moved to edgefl/proto/proto.hpp. Kept for one release (0.2); include the new path.
#pragma once
#include "edgefl/proto/proto.hpp"
