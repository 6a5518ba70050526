#include "connection_cut.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <charconv>
#include <string>

namespace edgefl {

namespace {
int local_tcp_port(int fd) {
  int type = 0;
  socklen_t type_len = sizeof type;
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &type_len) != 0 || type != SOCK_STREAM) return -1;
  sockaddr_storage local{};
  socklen_t local_len = sizeof local;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_len) != 0) return -1;
  if (local.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&local)->sin_port);
  if (local.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&local)->sin6_port);
  return -1;
}
}  // namespace

bool cut_source_connection(const zmq::message_t& frame, int local_port) {
  if (local_port <= 0) return false;
  // ZMQ_SRCFD is deprecated in libzmq but implemented through 4.3.x; it is the only way to
  // name a ROUTER peer's connection.
  const int fd = zmq_msg_get(const_cast<zmq_msg_t*>(frame.handle()), ZMQ_SRCFD);
  if (fd < 0 || local_tcp_port(fd) != local_port) return false;
  return shutdown(fd, SHUT_RDWR) == 0;
}

int endpoint_port(const std::string& endpoint) {
  if (!endpoint.starts_with("tcp://")) return -1;
  const std::size_t colon = endpoint.rfind(':');
  int port = -1;
  const char* first = endpoint.data() + colon + 1;
  const char* last = endpoint.data() + endpoint.size();
  auto [end, error] = std::from_chars(first, last, port);
  if (error != std::errc() || end != last) return -1;
  return port;
}

}  // namespace edgefl
