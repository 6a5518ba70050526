#include "edgefl/net/curve.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include <zmq.h>

#include "edgefl/base/unique_fd.hpp"

namespace edgefl {

namespace {

constexpr size_t kZ85KeyLength = 40;

Status os_error(const std::string& doing, const std::string& path) {
  return make_status(StatusCode::io_error, doing + " '" + path + "': " + std::strerror(errno));
}

Status write_key_file(const std::string& path, const std::string& key, mode_t mode,
                      bool overwrite) {
  int flags = O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | (overwrite ? 0 : O_EXCL);
  UniqueFd file(::open(path.c_str(), flags, mode));
  if (!file.valid()) {
    if (errno == EEXIST) {
      return make_status(StatusCode::failed_precondition,
                         "key file '" + path + "' already exists; refusing to overwrite it");
    }
    return os_error("creating key file", path);
  }
  // The file may have existed with looser bits (overwrite): set them explicitly.
  if (::fchmod(file.get(), mode) != 0) return os_error("setting permissions on", path);
  std::string text = key + "\n";
  if (::write(file.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    return os_error("writing key file", path);
  }
  if (::fsync(file.get()) != 0) return os_error("syncing key file", path);
  return Status();
}

Result<std::string> read_key_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return make_status(StatusCode::not_found, "cannot open key file '" + path + "'");
  std::string key;
  in >> key;
  std::string rest;
  if (in >> rest) {
    return make_status(StatusCode::corrupt, "key file '" + path + "' holds more than one key");
  }
  EDGEFL_RETURN_IF_ERROR(check_z85_key(key).with_context("key file '" + path + "'"));
  return key;
}

bool file_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

}  // namespace

Result<CurveKeyPair> generate_curve_keypair() {
  if (zmq_has("curve") == 0) {
    return make_status(StatusCode::failed_precondition, "libzmq was built without CURVE");
  }
  char public_key[kZ85KeyLength + 1] = {};
  char secret_key[kZ85KeyLength + 1] = {};
  if (zmq_curve_keypair(public_key, secret_key) != 0) {
    return make_status(StatusCode::internal,
                       std::string("zmq_curve_keypair failed: ") + zmq_strerror(zmq_errno()));
  }
  return CurveKeyPair{public_key, secret_key};
}

Status check_z85_key(std::string_view key) {
  if (key.size() != kZ85KeyLength) {
    return make_status(StatusCode::invalid_argument,
                       "a CURVE key is 40 Z85 characters, got " + std::to_string(key.size()));
  }
  std::string text(key);
  uint8_t raw[32];
  if (zmq_z85_decode(raw, text.c_str()) == nullptr) {
    return make_status(StatusCode::invalid_argument, "CURVE key is not valid Z85 text");
  }
  return Status();
}

Result<std::string> curve_public_from_secret(std::string_view secret_z85) {
  EDGEFL_RETURN_IF_ERROR(check_z85_key(secret_z85).with_context("secret key"));
  std::string secret(secret_z85);
  char public_key[kZ85KeyLength + 1] = {};
  if (zmq_curve_public(public_key, secret.c_str()) != 0) {
    return make_status(StatusCode::failed_precondition,
                       std::string("zmq_curve_public failed: ") + zmq_strerror(zmq_errno()));
  }
  return std::string(public_key);
}

Status save_curve_keypair(const CurveKeyPair& keys, const std::string& base_path, bool overwrite) {
  EDGEFL_RETURN_IF_ERROR(check_z85_key(keys.public_z85).with_context("public key"));
  EDGEFL_RETURN_IF_ERROR(check_z85_key(keys.secret_z85).with_context("secret key"));
  const std::string secret_path = base_path + ".key";
  const std::string public_path = base_path + ".pub";
  if (!overwrite) {
    // Check both first so a refusal never leaves half a pair behind.
    for (const auto& path : {secret_path, public_path}) {
      if (file_exists(path)) {
        return make_status(StatusCode::failed_precondition,
                           "key file '" + path + "' already exists; refusing to overwrite it");
      }
    }
  }
  EDGEFL_RETURN_IF_ERROR(write_key_file(secret_path, keys.secret_z85, 0600, overwrite));
  return write_key_file(public_path, keys.public_z85, 0644, overwrite);
}

Result<CurveKeyPair> load_curve_keypair(const std::string& path) {
  // "keys/pi-3" and "keys/pi-3.key" name the same pair.
  const std::string suffix = ".key";
  const bool has_suffix = path.size() > suffix.size() &&
                          path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0;
  const std::string base_path = has_suffix ? path.substr(0, path.size() - suffix.size()) : path;
  const std::string secret_path = base_path + ".key";
  struct stat st {};
  if (::stat(secret_path.c_str(), &st) != 0) {
    return make_status(StatusCode::not_found, "secret key file '" + secret_path + "' not found");
  }
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return make_status(StatusCode::failed_precondition, "secret key file '" + secret_path +
                                                            "' is readable by others (mode " +
                                                            mode + "); chmod 600 it");
  }
  auto secret = read_key_file(secret_path);
  if (!secret) return secret.status();
  auto derived = curve_public_from_secret(*secret);
  if (!derived) return derived.status();
  const std::string public_path = base_path + ".pub";
  if (file_exists(public_path)) {
    auto stored = read_key_file(public_path);
    if (!stored) return stored.status();
    if (*stored != *derived) {
      return make_status(StatusCode::corrupt,
                         "'" + public_path + "' does not belong to '" + secret_path + "'");
    }
  }
  return CurveKeyPair{*derived, *secret};
}

Result<std::string> load_public_key(const std::string& path) {
  return read_key_file(path);
}

Result<std::vector<std::string>> load_public_key_list(const std::string& path) {
  std::ifstream in(path);
  if (!in) return make_status(StatusCode::not_found, "cannot open key list '" + path + "'");
  std::vector<std::string> keys;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    // '#' is a Z85 character but never the first of a 32-byte key (its value would overflow),
    // so a comment is a first word starting with '#', or a word starting with '#' after a key.
    std::istringstream fields(line);
    std::string key, rest;
    if (!(fields >> key)) continue;
    const std::string where = path + ":" + std::to_string(number);
    if (key[0] == '#') continue;
    Status valid = check_z85_key(key);
    if (!valid.ok()) return valid.with_context(where);
    if (fields >> rest && rest[0] != '#') {
      return make_status(StatusCode::invalid_argument, where + ": unexpected text after the key");
    }
    keys.push_back(key);
  }
  return keys;
}

}  // namespace edgefl
