// Forwarding header: moved to edgefl/base/model_spec.hpp. Kept for one release (0.2); include the new path.
#pragma once
#include "edgefl/base/model_spec.hpp"
