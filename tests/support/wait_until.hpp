// wait_until: tests wait on state, never for a fixed time.
//
//   REQUIRE(wait_until([&] { return tap.received(MessageType::ack) > 0; }, 10s));
#pragma once

#include <chrono>
#include <functional>

namespace edgefl::testing {

// Polls `done` every few milliseconds until it holds (true) or `limit` passed (false).
bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds limit);

}  // namespace edgefl::testing
