// Forwarding header: moved to edgefl/proto/checkpoint.hpp. Kept for one release (0.2); include the new path.
#pragma once
#include "edgefl/proto/checkpoint.hpp"
