// Forwarding header: moved to edgefl/nn/model.hpp. Kept for one release (0.2); include the new path.
#pragma once
#include "edgefl/nn/model.hpp"
