// Ends the TCP connection a received message came from. libzmq 4.3 has no call that drops one
// peer of a ROUTER, so a peer past its rate limit would otherwise cost the poll loop one
// receive per junk message for as long as it floods. shutdown(2) on the connection's socket
// (its descriptor is ZMQ_SRCFD of the message) makes libzmq's engine read end-of-stream and
// close the connection itself; the descriptor stays libzmq's. A peer may reconnect, and is cut
// again once past its rate (PeerRateLimit's hold-off keeps a stale descriptor from being cut).
#pragma once

#include <string>

#include <zmq.hpp>

namespace edgefl {

// True when the message's connection was a TCP socket accepted on `local_port` and is now
// shut down; false when it is not one (ipc, inproc, a descriptor already reused for something
// else) and nothing was done.
bool cut_source_connection(const zmq::message_t& frame, int local_port);

// The port of a bound "tcp://host:port" endpoint; -1 for any other transport.
int endpoint_port(const std::string& endpoint);

}  // namespace edgefl
