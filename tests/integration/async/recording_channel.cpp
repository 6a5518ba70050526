#include "recording_channel.hpp"

#include "edgefl/proto/proto.hpp"

namespace edgefl::test {

Status RecordingChannel::send(const std::string& peer, ByteView message) {
  Status sent = inner_->send(peer, message);
  if (!sent.ok()) return sent;
  AlignedBytes scratch;
  Result<DecodedMessage> decoded = decode_message(message, scratch);
  if (decoded) {
    if (const Ack* ack = std::get_if<Ack>(&decoded->message)) {
      if (ack->status == AckStatus::accepted) {
        ++accepted[ack->update_id];
      } else {
        ++duplicate_acks;
      }
    } else if (const Reject* reject = std::get_if<Reject>(&decoded->message)) {
      rejects.push_back(*reject);
    }
  }
  return sent;
}

}  // namespace edgefl::test
