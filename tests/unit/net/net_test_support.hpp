// Helpers for the net tests: a fast policy, waiting for link events with deadlines.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "edgefl/net/socket_policy.hpp"
#include "edgefl/net/transport.hpp"

namespace edgefl::testing {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Production defaults scaled down 10x: keepalive idle 1 s, retransmit limit 2 s,
// reconnect 100 ms, send timeout 500 ms. Shows that time_scale alone retimes everything.
SocketPolicy fast_policy();

Bytes bytes_of(const std::string& text);
std::string text_of(const Bytes& bytes);

// Waits until `channel` reports an event of `kind` or the deadline passes; returns when it
// was read, nullopt on timeout.
template <typename Channel>
std::optional<Clock::time_point> wait_for_event(Channel& channel, LinkEvent::Kind kind,
                                                Clock::time_point deadline) {
  while (Clock::now() < deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    for (const auto& event : channel.poll_events(std::min(left, std::chrono::milliseconds(50)))) {
      if (event.kind == kind) return event.when;
    }
  }
  return std::nullopt;
}

}  // namespace edgefl::testing
