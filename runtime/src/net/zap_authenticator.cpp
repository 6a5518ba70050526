#include "edgefl/net/zap_authenticator.hpp"

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "edgefl/net/curve.hpp"
#include "net_context_impl.hpp"
#include "socket_io.hpp"
#include "socket_setup.hpp"
#include "zmq_status.hpp"

namespace edgefl {

namespace {
constexpr const char* kZapEndpoint = "inproc://zeromq.zap.01";  // fixed by RFC 27

Status check_keys(const std::vector<std::string>& keys) {
  for (size_t i = 0; i < keys.size(); ++i) {
    Status s = check_z85_key(keys[i]);
    if (!s.ok()) return s.with_context("allowed key #" + std::to_string(i + 1));
  }
  return Status();
}
}  // namespace

struct ZapAuthenticator::Impl {
  Impl(NetContext& owner_ctx, std::set<std::string> keys)
      : owner(&owner_ctx),
        zap(owner_ctx.impl().zmq, zmq::socket_type::rep),
        stop_sender(owner_ctx.impl().zmq, zmq::socket_type::pair),
        stop_receiver(owner_ctx.impl().zmq, zmq::socket_type::pair),
        allowed(std::move(keys)) {}

  // Handler thread: one request at a time, until the stop socket speaks or the context ends.
  void run() {
    try {
      zmq::pollitem_t items[] = {{zap.handle(), 0, ZMQ_POLLIN, 0},
                                 {stop_receiver.handle(), 0, ZMQ_POLLIN, 0}};
      while (true) {
        zmq::poll(items, 2, std::chrono::milliseconds(-1));
        if (items[1].revents & ZMQ_POLLIN) return;
        if (items[0].revents & ZMQ_POLLIN) answer_one();
      }
    } catch (const zmq::error_t&) {
      // Context terminated: with ZAP_ENFORCE_DOMAIN set, no handler means no new connections.
    }
  }

  void answer_one() {
    auto request = receive_frames(zap, std::chrono::milliseconds(0));
    if (!request) return;
    // RFC 27: version, request id, domain, address, routing id, mechanism, credentials...
    auto frame = [&](size_t i) { return i < request->size() ? (*request)[i].to_string() : ""; };
    std::string user;
    bool allow = false;
    if (frame(0) == "1.0" && frame(2) == kZapDomain && frame(5) == "CURVE" &&
        request->size() >= 7 && (*request)[6].size() == 32) {
      char z85[41] = {};
      zmq_z85_encode(z85, static_cast<const uint8_t*>((*request)[6].data()), 32);
      std::lock_guard<std::mutex> lock(mutex);
      if (allowed.count(z85) != 0) {
        allow = true;
        user = z85;
      }
    }
    (allow ? accepted : denied)++;
    const std::string reply[] = {
        "1.0", frame(1), allow ? "200" : "400", allow ? "OK" : "key not allowed", user, ""};
    for (size_t i = 0; i < 6; ++i) {
      zmq::message_t part(reply[i].data(), reply[i].size());
      zap.send(part, i + 1 < 6 ? zmq::send_flags::sndmore : zmq::send_flags::none);
    }
  }

  NetContext* owner;
  zmq::socket_t zap;
  zmq::socket_t stop_sender;
  zmq::socket_t stop_receiver;
  std::mutex mutex;
  std::set<std::string> allowed;
  std::atomic<uint64_t> accepted{0};
  std::atomic<uint64_t> denied{0};
  std::thread thread;
};

Result<std::unique_ptr<ZapAuthenticator>> ZapAuthenticator::start(
    NetContext& ctx, std::vector<std::string> allowed_z85) {
  EDGEFL_RETURN_IF_ERROR(check_keys(allowed_z85));
  try {
    auto impl =
        std::make_unique<Impl>(ctx, std::set<std::string>(allowed_z85.begin(), allowed_z85.end()));
    for (zmq::socket_t* s : {&impl->zap, &impl->stop_sender, &impl->stop_receiver}) {
      s->set(zmq::sockopt::linger, 0);
    }
    try {
      impl->zap.bind(kZapEndpoint);
    } catch (const zmq::error_t& e) {
      if (e.num() == EADDRINUSE) {
        return make_status(StatusCode::unavailable,
                           "another ZAP handler already serves this NetContext");
      }
      throw;
    }
    std::string stop_address = ctx.impl().unique_inproc("zap-stop");
    impl->stop_receiver.bind(stop_address);
    impl->stop_sender.connect(stop_address);
    // The sockets move to the handler thread here; starting a thread is a full memory barrier.
    impl->thread = std::thread([raw = impl.get()] { raw->run(); });
    return std::unique_ptr<ZapAuthenticator>(new ZapAuthenticator(std::move(impl)));
  } catch (const zmq::error_t& e) {
    return status_from_zmq(e, "starting the ZAP handler");
  }
}

ZapAuthenticator::ZapAuthenticator(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ZapAuthenticator::~ZapAuthenticator() {
  try {
    zmq::message_t stop;
    impl_->stop_sender.send(stop, zmq::send_flags::dontwait);
  } catch (const zmq::error_t&) {
    // The context is already terminating: the thread leaves on its own.
  }
  impl_->thread.join();
}

Status ZapAuthenticator::set_allowed_keys(std::vector<std::string> allowed_z85) {
  EDGEFL_RETURN_IF_ERROR(check_keys(allowed_z85));
  std::lock_guard<std::mutex> lock(impl_->mutex);
  impl_->allowed = std::set<std::string>(allowed_z85.begin(), allowed_z85.end());
  return Status();
}

const NetContext* ZapAuthenticator::context() const {
  return impl_->owner;
}
uint64_t ZapAuthenticator::accepted_count() const {
  return impl_->accepted.load();
}
uint64_t ZapAuthenticator::denied_count() const {
  return impl_->denied.load();
}

}  // namespace edgefl
