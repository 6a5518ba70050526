#include <doctest/doctest.h>

#include <sys/stat.h>

#include <fstream>

#include "edgefl/net/curve.hpp"
#include "edgefl/net/zap_authenticator.hpp"
#include "edgefl/net/zmq_transport.hpp"
#include "net_test_support.hpp"
#include "temp_dir.hpp"

using namespace edgefl;
using namespace edgefl::testing;

namespace {
CurveKeyPair new_keys() {
  auto keys = generate_curve_keypair();
  REQUIRE_MESSAGE(keys.ok(), keys.status().to_string());
  return *keys;
}

// A CURVE server with an allow-list, plus helpers to try devices against it.
struct SecureSetup {
  SecureSetup(std::vector<std::string> allowed) {
    auto c = NetContext::create();
    REQUIRE(c.ok());
    ctx = std::move(*c);
    auto z = ZapAuthenticator::start(*ctx, std::move(allowed));
    REQUIRE_MESSAGE(z.ok(), z.status().to_string());
    zap = std::move(*z);
    ServerSecurity security{server_keys, zap.get(), false};
    auto s = ServerTransport::bind(*ctx, "tcp://127.0.0.1:*", policy, security);
    REQUIRE_MESSAGE(s.ok(), s.status().to_string());
    server = std::move(*s);
  }

  std::unique_ptr<DeviceTransport> device(std::optional<CurveKeyPair> keys) {
    DeviceSecurity security{keys, server_keys.public_z85};
    auto d = DeviceTransport::connect(*ctx, server->endpoint(), policy, security);
    REQUIRE_MESSAGE(d.ok(), d.status().to_string());
    return std::move(*d);
  }

  // True if the server receives `text` from `device` within the policy's send timeout.
  std::optional<Inbound> try_exchange(DeviceTransport& dev, const std::string& text) {
    if (!dev.send(bytes_of(text)).ok()) return std::nullopt;  // never connected
    auto in = server->receive(2s);
    REQUIRE(in.ok());
    return *in;
  }

  SocketPolicy policy = fast_policy();
  CurveKeyPair server_keys = new_keys();
  std::unique_ptr<NetContext> ctx;
  std::unique_ptr<ZapAuthenticator> zap;
  std::unique_ptr<ServerTransport> server;
};
}  // namespace

TEST_CASE("curve: generated keys are Z85 and the public key derives from the secret") {
  CurveKeyPair a = new_keys();
  CurveKeyPair b = new_keys();
  CHECK(check_z85_key(a.public_z85).ok());
  CHECK(check_z85_key(a.secret_z85).ok());
  CHECK(a.public_z85 != b.public_z85);
  auto derived = curve_public_from_secret(a.secret_z85);
  REQUIRE(derived.ok());
  CHECK(*derived == a.public_z85);
  CHECK(check_z85_key("short").code() == StatusCode::invalid_argument);
  CHECK(check_z85_key(std::string(40, '"')).code() == StatusCode::invalid_argument);
}

TEST_CASE("curve: key files round-trip, the secret is 0600 and never silently replaced") {
  TempDir dir;
  CurveKeyPair keys = new_keys();
  std::string base = dir.file("device-1");
  REQUIRE(save_curve_keypair(keys, base).ok());

  struct stat st {};
  REQUIRE(::stat((base + ".key").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);

  auto loaded = load_curve_keypair(base);
  REQUIRE_MESSAGE(loaded.ok(), loaded.status().to_string());
  CHECK(loaded->public_z85 == keys.public_z85);
  CHECK(loaded->secret_z85 == keys.secret_z85);
  auto pub = load_public_key(base + ".pub");
  REQUIRE(pub.ok());
  CHECK(*pub == keys.public_z85);

  Status again = save_curve_keypair(new_keys(), base);
  CHECK(again.code() == StatusCode::failed_precondition);
  CHECK(again.message().find("already exists") != std::string::npos);
  CHECK(load_curve_keypair(base)->secret_z85 == keys.secret_z85);  // untouched
  CHECK(save_curve_keypair(new_keys(), base, /*overwrite=*/true).ok());
  CHECK(load_curve_keypair(base)->secret_z85 != keys.secret_z85);
}

TEST_CASE("curve: unsafe or broken key files are refused with a clear error") {
  TempDir dir;
  std::string base = dir.file("k");
  CHECK(load_curve_keypair(base).status().code() == StatusCode::not_found);

  REQUIRE(save_curve_keypair(new_keys(), base).ok());
  REQUIRE(::chmod((base + ".key").c_str(), 0644) == 0);
  auto open = load_curve_keypair(base);
  CHECK(open.status().code() == StatusCode::failed_precondition);
  CHECK(open.status().message().find("chmod 600") != std::string::npos);
  REQUIRE(::chmod((base + ".key").c_str(), 0600) == 0);

  // A .pub from another pair.
  std::ofstream((base + ".pub").c_str()) << new_keys().public_z85 << "\n";
  CHECK(load_curve_keypair(base).status().code() == StatusCode::corrupt);

  std::ofstream(dir.file("bad.pub")) << "not-a-key\n";
  CHECK(load_public_key(dir.file("bad.pub")).status().code() ==
        StatusCode::invalid_argument);
}

TEST_CASE("curve: allow-list files skip comments and name the bad line") {
  TempDir dir;
  CurveKeyPair a = new_keys(), b = new_keys();
  // '#' is a Z85 character (never the first one of a 32-byte key): it must not start a comment.
  for (int i = 0; i < 1000 && a.public_z85.find('#') == std::string::npos; ++i) a = new_keys();
  REQUIRE(a.public_z85.find('#') != std::string::npos);
  std::string path = dir.file("allowed.txt");
  std::ofstream(path.c_str()) << "# devices\n"
                              << a.public_z85 << "  # kitchen\n\n"
                              << b.public_z85 << "\n";
  auto keys = load_public_key_list(path);
  REQUIRE(keys.ok());
  CHECK(*keys == std::vector<std::string>{a.public_z85, b.public_z85});

  std::ofstream(path.c_str(), std::ios::app) << "garbage\n";
  auto broken = load_public_key_list(path);
  CHECK(broken.status().code() == StatusCode::invalid_argument);
  CHECK(broken.status().message().find("allowed.txt:5") != std::string::npos);
}

TEST_CASE("curve: an allowed key connects and its identity is the ZAP User-Id") {
  CurveKeyPair device_keys = new_keys();
  SecureSetup setup({device_keys.public_z85});
  auto device = setup.device(device_keys);
  auto in = setup.try_exchange(*device, "hello");
  REQUIRE(in.has_value());
  CHECK(text_of(in->payload) == "hello");
  CHECK(in->identity == device_keys.public_z85);
  CHECK(setup.zap->accepted_count() >= 1);

  REQUIRE(setup.server->send(in->peer, bytes_of("welcome")).ok());
  auto reply = device->receive(2s);
  REQUIRE(reply.ok());
  REQUIRE(reply->has_value());
  CHECK(text_of(**reply) == "welcome");
}

TEST_CASE("curve: an unknown key is refused by ZAP") {
  SecureSetup setup({new_keys().public_z85});
  auto stranger = setup.device(new_keys());
  CHECK_FALSE(setup.try_exchange(*stranger, "let me in").has_value());
  CHECK(wait_for_event(*setup.server, LinkEvent::Kind::handshake_failed_auth, Clock::now() + 3s)
            .has_value());
  CHECK(setup.zap->denied_count() >= 1);
  CHECK(setup.zap->accepted_count() == 0);
}

TEST_CASE("curve: a plaintext client is refused") {
  SecureSetup setup({new_keys().public_z85});
  auto plain = setup.device(std::nullopt);
  CHECK_FALSE(setup.try_exchange(*plain, "plaintext").has_value());
  CHECK(wait_for_event(*setup.server, LinkEvent::Kind::handshake_failed_protocol, Clock::now() + 3s)
            .has_value());
  CHECK(setup.zap->accepted_count() == 0);
}

TEST_CASE("curve: a revoked key is refused at its next handshake") {
  CurveKeyPair device_keys = new_keys();
  SecureSetup setup({device_keys.public_z85});
  REQUIRE(setup.zap->set_allowed_keys({}).ok());
  auto device = setup.device(device_keys);
  CHECK_FALSE(setup.try_exchange(*device, "revoked").has_value());
  CHECK(setup.zap->denied_count() >= 1);
  CHECK(setup.zap->set_allowed_keys({"bad"}).code() == StatusCode::invalid_argument);
}

TEST_CASE("curve: without its ZAP handler the server fails closed") {
  CurveKeyPair device_keys = new_keys();
  SecureSetup setup({device_keys.public_z85});
  // The handler goes away while the server keeps listening: ZAP_ENFORCE_DOMAIN must refuse
  // new handshakes instead of falling back to "encryption without authentication".
  setup.zap.reset();
  auto device = setup.device(device_keys);
  CHECK_FALSE(setup.try_exchange(*device, "no handler").has_value());
}

TEST_CASE("curve: the server refuses to start with keys but no handler, or open to the network") {
  auto c = NetContext::create();
  REQUIRE(c.ok());
  NetContext& ctx = **c;
  SocketPolicy policy = fast_policy();
  CurveKeyPair keys = new_keys();

  ServerSecurity no_handler{keys, nullptr, false};
  auto refused = ServerTransport::bind(ctx, "tcp://127.0.0.1:*", policy, no_handler);
  CHECK(refused.status().code() == StatusCode::failed_precondition);
  CHECK(refused.status().message().find("ZapAuthenticator") != std::string::npos);

  // A handler in another context would never be asked.
  auto other = NetContext::create();
  REQUIRE(other.ok());
  auto foreign = ZapAuthenticator::start(**other, {});
  REQUIRE(foreign.ok());
  ServerSecurity wrong_context{keys, foreign->get(), false};
  CHECK(ServerTransport::bind(ctx, "tcp://127.0.0.1:*", policy, wrong_context).status().code() ==
        StatusCode::failed_precondition);

  // Plaintext beyond loopback needs the explicit insecure flag.
  auto open = ServerTransport::bind(ctx, "tcp://0.0.0.0:*", policy, {});
  CHECK(open.status().code() == StatusCode::failed_precondition);
  CHECK(open.status().message().find("insecure") != std::string::npos);
  ServerSecurity insecure;
  insecure.insecure = true;
  auto allowed = ServerTransport::bind(ctx, "tcp://0.0.0.0:*", policy, insecure);
  CHECK_MESSAGE(allowed.ok(), allowed.status().to_string());

  // One handler per context; bad keys never start one.
  auto first = ZapAuthenticator::start(ctx, {});
  REQUIRE(first.ok());
  CHECK(ZapAuthenticator::start(ctx, {}).status().code() == StatusCode::unavailable);
  CHECK(ZapAuthenticator::start(ctx, {"bad"}).status().code() == StatusCode::invalid_argument);
}

TEST_CASE("curve: a device refuses malformed keys before connecting") {
  auto c = NetContext::create();
  REQUIRE(c.ok());
  DeviceSecurity security{new_keys(), "not-a-key"};
  auto device = DeviceTransport::connect(**c, "tcp://127.0.0.1:1", fast_policy(), security);
  CHECK(device.status().code() == StatusCode::invalid_argument);
  CHECK(device.status().message().find("server public key") != std::string::npos);
}
