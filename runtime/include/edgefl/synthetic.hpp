// Forwarding header: moved to edgefl/data/synthetic.hpp. Kept for one release (0.2); include the new path.
#pragma once
#include "edgefl/data/synthetic.hpp"
