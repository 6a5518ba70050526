#include "status_listen.hpp"

#include <cctype>
#include <charconv>

namespace edgefl::server {

namespace {

Status invalid(const std::string& message) {
  return make_status(StatusCode::invalid_argument, message);
}

bool is_loopback_host(std::string_view host) {
  if (host == "localhost" || host == "[::1]") return true;
  if (!host.starts_with("127.")) return false;
  for (char c : host) {
    if (!std::isdigit(static_cast<unsigned char>(c)) && c != '.') return false;
  }
  return true;
}

}  // namespace

Result<StatusListen> parse_status_listen(std::string_view text) {
  const std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return invalid("status.listen='" + std::string(text) +
                   "' is not HOST:PORT (e.g. 127.0.0.1:9464)");
  }
  StatusListen listen;
  listen.host = std::string(text.substr(0, colon));
  const std::string_view port = text.substr(colon + 1);
  unsigned value = 0;
  const auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || error != std::errc() || end != port.data() + port.size() || value > 65535) {
    return invalid("status.listen='" + std::string(text) + "': port '" + std::string(port) +
                   "' is not a number from 0 to 65535");
  }
  listen.port = static_cast<uint16_t>(value);
  listen.loopback = is_loopback_host(listen.host);
  return listen;
}

Status check_status_security(const StatusConfig& status, bool insecure) {
  if (status.listen.empty()) {
    if (!status.listen_file.empty() || !status.tls_cert.empty() || !status.tls_key.empty() ||
        !status.token_file.empty()) {
      return invalid("status.listen_file, tls_cert, tls_key and token_file need status.listen");
    }
    return Status();
  }
  Result<StatusListen> listen = parse_status_listen(status.listen);
  if (!listen) return listen.status();
  if (status.tls_cert.empty() != status.tls_key.empty()) {
    return invalid("status.tls_cert and status.tls_key go together (HTTPS needs both)");
  }
  if (listen->loopback || insecure) return Status();
  if (status.tls_cert.empty() || status.token_file.empty()) {
    return invalid(
        "status.listen='" + status.listen +
        "' is beyond loopback: it needs status.tls_cert, status.tls_key and status.token_file "
        "(or --insecure)");
  }
  return Status();
}

}  // namespace edgefl::server
