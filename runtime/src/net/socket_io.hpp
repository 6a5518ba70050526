// Receive and send helpers shared by the server and device transports. They throw
// zmq::error_t like cppzmq; callers convert at their API boundary.
#pragma once

#include <chrono>
#include <optional>
#include <vector>

#include <zmq.hpp>

#include "edgefl/net/transport.hpp"

namespace edgefl {

// Waits up to `timeout` for one whole message (all its frames); nullopt on timeout.
std::optional<std::vector<zmq::message_t>> receive_frames(zmq::socket_t& socket,
                                                          std::chrono::milliseconds timeout);

// Waits until `timeout` has passed for a message of exactly `frame_count` frames, skipping
// messages of any other shape (a peer that broke the protocol); nullopt on timeout.
std::optional<std::vector<zmq::message_t>> receive_message(zmq::socket_t& socket,
                                                           std::chrono::milliseconds timeout,
                                                           std::size_t frame_count);

// Copies a frame into owned bytes (the message layer then aligns and verifies).
Bytes frame_bytes(const zmq::message_t& frame);

}  // namespace edgefl
