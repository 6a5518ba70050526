// CURVE keys: generation and key files (Z85 text).
//
//   auto keys = edgefl::generate_curve_keypair();              // needs libzmq with CURVE
//   EDGEFL_RETURN_IF_ERROR(edgefl::save_curve_keypair(*keys, "keys/device-7"));
//       // keys/device-7.key (secret, mode 0600) and keys/device-7.pub (public)
//   auto mine = edgefl::load_curve_keypair("keys/device-7");  // refuses a group/world-readable
//   .key auto server_pub = edgefl::load_public_key("keys/server.pub"); auto allowed =
//   edgefl::load_public_key_list("allowed_devices.txt");  // one key per line, # comments
//
// A device's identity on the server is its Z85 public key (see ZapAuthenticator).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "edgefl/base/status.hpp"

namespace edgefl {

struct CurveKeyPair {
  std::string public_z85;  // 40 characters
  std::string secret_z85;  // 40 characters; never leaves the machine it was made on
};

// failed_precondition when libzmq was built without CURVE.
Result<CurveKeyPair> generate_curve_keypair();

// invalid_argument unless `key` is 40 characters of Z85 encoding 32 bytes.
Status check_z85_key(std::string_view key);

// The public key belonging to a Z85 secret key.
Result<std::string> curve_public_from_secret(std::string_view secret_z85);

// Writes <base>.key (secret, 0600) and <base>.pub. Refuses to replace existing files unless
// `overwrite` is set.
Status save_curve_keypair(const CurveKeyPair& keys, const std::string& base_path,
                          bool overwrite = false);
// Reads <base>.key (`path` is <base> or <base>.key); checks it is not readable by group/others
// and that <base>.pub, when present, matches it.
Result<CurveKeyPair> load_curve_keypair(const std::string& path);
// Reads one Z85 public key (a .pub file).
Result<std::string> load_public_key(const std::string& path);
// Reads an allow-list: one Z85 public key per line; blank lines, lines starting with '#' and
// '#' comments after a key are ignored ('#' inside a key is part of the key).
Result<std::vector<std::string>> load_public_key_list(const std::string& path);

}  // namespace edgefl
