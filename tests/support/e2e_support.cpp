#include "e2e_support.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "edgefl/proto/checkpoint.hpp"
#include "edgefl/base/float_buffer.hpp"

namespace edgefl::testing {

std::optional<MessageType> type_of(ByteView bytes) {
  AlignedBytes scratch;
  Result<DecodedMessage> decoded = decode_message(bytes, scratch);
  if (!decoded) return std::nullopt;
  return decoded->type();
}

class TappedChannel final : public DeviceChannel {
 public:
  TappedChannel(LinkTap& tap, std::unique_ptr<DeviceChannel> inner) : tap_(&tap), inner_(std::move(inner)) {}
  Status send(ByteView message) override {
    if (!tap_->note_sent(message)) return Status();
    return inner_->send(message);
  }
  Result<std::optional<Bytes>> receive(std::chrono::milliseconds timeout) override {
    Result<std::optional<Bytes>> got = inner_->receive(timeout);
    if (got.ok() && got->has_value() && !tap_->note_received(**got)) return std::optional<Bytes>();
    return got;
  }
  std::vector<LinkEvent> poll_events(std::chrono::milliseconds wait) override { return inner_->poll_events(wait); }

 private:
  LinkTap* tap_;
  std::unique_ptr<DeviceChannel> inner_;
};

std::unique_ptr<DeviceChannel> LinkTap::wrap(std::unique_ptr<DeviceChannel> inner) {
  return std::make_unique<TappedChannel>(*this, std::move(inner));
}

bool LinkTap::note_sent(ByteView bytes) {
  AlignedBytes scratch;
  Result<DecodedMessage> decoded = decode_message(bytes, scratch);
  if (!decoded) return true;
  const MessageType type = decoded->type();
  ++sent_[index(type)];
  std::lock_guard<std::mutex> lock(mutex_);
  if (send_filter_ && send_filter_(*decoded)) {
    ++swallowed_sends_[index(type)];
    return false;
  }
  return true;
}

void LinkTap::set_send_filter(Filter filter) {
  std::lock_guard<std::mutex> lock(mutex_);
  send_filter_ = std::move(filter);
}

void LinkTap::set_filter(Filter filter) {
  std::lock_guard<std::mutex> lock(mutex_);
  filter_ = std::move(filter);
}

bool LinkTap::note_received(const Bytes& bytes) {
  AlignedBytes scratch;
  Result<DecodedMessage> decoded = decode_message(bytes, scratch);
  if (!decoded) return true;
  const MessageType type = decoded->type();
  std::lock_guard<std::mutex> lock(mutex_);
  if (filter_ && filter_(*decoded)) {
    ++swallowed_[index(type)];
    return false;
  }
  log_.emplace_back(type, bytes);
  ++received_[index(type)];
  return true;
}

std::vector<Bytes> LinkTap::received_messages(MessageType type) const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<Bytes> out;
  for (const auto& [t, bytes] : log_) {
    if (t == type) out.push_back(bytes);
  }
  return out;
}

std::vector<float> read_checkpoint_params(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  AlignedBytes scratch;
  Result<Checkpoint> checkpoint = decode_checkpoint(bytes, scratch);
  if (!checkpoint) return {};
  FloatBuffer params(checkpoint->params.parameter_count);
  if (!decode_into(checkpoint->params, params.span()).ok()) return {};
  return std::vector<float>(params.span().begin(), params.span().end());
}

std::vector<std::string> outbox_entries(const std::string& outbox_dir) {
  std::vector<std::string> ids;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(outbox_dir, error)) {
    const std::string name = entry.path().filename().string();
    const std::string suffix = ".upd";
    if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      ids.push_back(name.substr(0, name.size() - suffix.size()));
    }
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

}  // namespace edgefl::testing
