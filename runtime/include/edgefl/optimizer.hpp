// Forwarding header: moved to edgefl/optim/optimizer.hpp. Kept for one release (0.2); include the new path.
#pragma once
#include "edgefl/optim/optimizer.hpp"
