// Forwarding header: moved to edgefl/net/zap_authenticator.hpp. Kept for one release (0.2); include the new path.
#pragma once
#include "edgefl/net/zap_authenticator.hpp"
