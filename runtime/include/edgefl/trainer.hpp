// Forwarding header: moved to edgefl/train/trainer.hpp. Kept for one release (0.2); include the new path.
#pragma once
#include "edgefl/train/trainer.hpp"
