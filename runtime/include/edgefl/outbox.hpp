// Forwarding header: moved to edgefl/store/outbox.hpp. Kept for one release (0.2); include the new path.
#pragma once
#include "edgefl/store/outbox.hpp"
