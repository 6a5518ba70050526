// ZapAuthenticator: the ZAP handler (RFC 27) that admits only listed device public keys.
//
//   auto zap = edgefl::ZapAuthenticator::start(ctx, {"rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"});
//   if (!zap) return zap.status();
//   ServerSecurity sec{.curve = server_keys, .authenticator = zap->get()};
//
// Runs one thread answering on inproc://zeromq.zap.01 in `ctx` (one per context). A listed
// key gets "200" with User-Id = that Z85 key, which the server reads as the device identity;
// anything else gets "400". Server sockets also set ZMQ_ZAP_ENFORCE_DOMAIN, so if this handler
// is gone, handshakes fail instead of letting everyone in. Stop it (destroy) before its context.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "edgefl/net/net_context.hpp"
#include "edgefl/base/status.hpp"

namespace edgefl {

class ZapAuthenticator {
 public:
  // Every key must pass check_z85_key. unavailable if another handler is bound in `ctx`.
  static Result<std::unique_ptr<ZapAuthenticator>> start(NetContext& ctx,
                                                         std::vector<std::string> allowed_z85);
  ~ZapAuthenticator();
  ZapAuthenticator(const ZapAuthenticator&) = delete;
  ZapAuthenticator& operator=(const ZapAuthenticator&) = delete;

  // Replaces the allow-list (revocation takes effect at the next handshake).
  Status set_allowed_keys(std::vector<std::string> allowed_z85);

  // The context this handler serves: a server socket in any other context is not protected.
  const NetContext* context() const;
  uint64_t accepted_count() const;
  uint64_t denied_count() const;

  struct Impl;

 private:
  explicit ZapAuthenticator(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace edgefl
