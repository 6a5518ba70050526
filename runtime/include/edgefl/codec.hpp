// Forwarding header: moved to edgefl/codec/codec.hpp. Kept for one release (0.2); include the new path.
#pragma once
#include "edgefl/codec/codec.hpp"
