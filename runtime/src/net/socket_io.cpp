#include "socket_io.hpp"

#include <algorithm>

namespace edgefl {

std::optional<std::vector<zmq::message_t>> receive_frames(zmq::socket_t& socket,
                                                          std::chrono::milliseconds timeout) {
  zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
  if (zmq::poll(&item, 1, std::max(timeout, std::chrono::milliseconds(0))) == 0) {
    return std::nullopt;
  }
  std::vector<zmq::message_t> frames;
  do {
    zmq::message_t frame;
    // Readable means the whole message is here: ZeroMQ delivers multipart messages atomically.
    if (!socket.recv(frame, zmq::recv_flags::dontwait)) {
      if (frames.empty()) return std::nullopt;  // another reader raced us; nothing lost
      throw zmq::error_t();
    }
    bool more = frame.more();
    frames.push_back(std::move(frame));
    if (!more) break;
  } while (true);
  return frames;
}

std::optional<std::vector<zmq::message_t>> receive_message(zmq::socket_t& socket,
                                                           std::chrono::milliseconds timeout,
                                                           std::size_t frame_count) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    auto frames = receive_frames(socket, std::max(left, std::chrono::milliseconds(0)));
    // zmq_poll may wake a millisecond early: only give up once the deadline has passed.
    if (!frames && std::chrono::steady_clock::now() < deadline) continue;
    if (!frames || frames->size() == frame_count) return frames;
  }
}

Bytes frame_bytes(const zmq::message_t& frame) {
  const auto* data = static_cast<const uint8_t*>(frame.data());
  return Bytes(data, data + frame.size());
}

}  // namespace edgefl
