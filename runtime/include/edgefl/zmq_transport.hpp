// Forwarding header: moved to edgefl/net/zmq_transport.hpp. Kept for one release (0.2); include the new path.
#pragma once
#include "edgefl/net/zmq_transport.hpp"
