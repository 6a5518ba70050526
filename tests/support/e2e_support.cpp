#include "e2e_support.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "edgefl/checkpoint.hpp"
#include "edgefl/float_buffer.hpp"

namespace edgefl::testing {

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "edgefl-e2e-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) std::abort();
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

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

std::optional<int64_t> json_int_field(const std::string& line, const std::string& key) {
  const std::string marker = "\"" + key + "\":";
  const std::size_t at = line.find(marker);
  if (at == std::string::npos) return std::nullopt;
  const char* begin = line.c_str() + at + marker.size();
  char* end = nullptr;
  const long long value = std::strtoll(begin, &end, 10);
  if (end == begin) return std::nullopt;
  return value;
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

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

ChildProcess::ChildProcess(const std::string& program, const std::vector<std::string>& args,
                           const std::string& log_path)
    : log_path_(log_path) {
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(program.c_str()));
  for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  const int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  pid_ = ::fork();
  if (pid_ == 0) {
    ::dup2(log_fd, 1);
    ::dup2(log_fd, 2);
    ::execv(program.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(log_fd);
}

ChildProcess::~ChildProcess() { kill(); }

void ChildProcess::kill() {
  if (pid_ <= 0 || status_ >= 0) return;
  ::kill(pid_, SIGKILL);
  (void)wait(std::chrono::seconds(10));
}

bool ChildProcess::running() { return wait(std::chrono::milliseconds(0)) < 0; }

int ChildProcess::wait(std::chrono::milliseconds limit) {
  if (status_ >= 0 || pid_ <= 0) return status_;
  const auto until = std::chrono::steady_clock::now() + limit;
  while (true) {
    int raw = 0;
    if (::waitpid(pid_, &raw, WNOHANG) == pid_) {
      status_ = WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
      return status_;
    }
    if (std::chrono::steady_clock::now() >= until) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

std::string ChildProcess::wait_endpoint(std::chrono::milliseconds limit) const {
  std::string endpoint;
  wait_until(
      [&] {
        std::ifstream in(log_path_);
        std::stringstream text;
        text << in.rdbuf();
        const std::string all = text.str();
        const std::string marker = "listening on ";
        const std::size_t at = all.rfind(marker);
        if (at == std::string::npos) return false;
        const std::size_t end = all.find(',', at);
        if (end == std::string::npos) return false;
        endpoint = all.substr(at + marker.size(), end - at - marker.size());
        return true;
      },
      limit);
  return endpoint;
}

}  // namespace edgefl::testing
