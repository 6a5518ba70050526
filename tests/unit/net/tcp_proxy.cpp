#include "tcp_proxy.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

namespace edgefl::testing {

namespace {
sockaddr_in loopback(uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}
}  // namespace

ClosedPort::ClosedPort() {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr = loopback(0);
  socklen_t len = sizeof addr;
  if (fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port_ = ntohs(addr.sin_port);
  }
}

ClosedPort::~ClosedPort() {
  if (fd_ >= 0) ::close(fd_);
}

std::string ClosedPort::endpoint() const {
  return "tcp://127.0.0.1:" + std::to_string(port_);
}

uint16_t endpoint_port(const std::string& endpoint) {
  return static_cast<uint16_t>(std::stoi(endpoint.substr(endpoint.rfind(':') + 1)));
}

TcpProxy::TcpProxy(uint16_t upstream_port) : upstream_port_(upstream_port) {
  if (::pipe(wake_fds_) != 0) return;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr = loopback(0);
  socklen_t len = sizeof addr;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(fd, 16) != 0 || ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    if (fd >= 0) ::close(fd);
    return;
  }
  port_ = ntohs(addr.sin_port);
  listen_fd_ = fd;
  thread_ = std::thread([this] { run(); });
}

TcpProxy::~TcpProxy() {
  if (thread_.joinable()) {
    char stop = 1;
    (void)::write(wake_fds_[1], &stop, 1);
    thread_.join();
  }
  for (int fd : {listen_fd_, wake_fds_[0], wake_fds_[1]}) {
    if (fd >= 0) ::close(fd);
  }
}

std::string TcpProxy::endpoint() const {
  return "tcp://127.0.0.1:" + std::to_string(port_);
}

void TcpProxy::run() {
  // Pairs of connected fds: [client, upstream]; data read from one is written to the other.
  std::vector<std::pair<int, int>> links;
  char buffer[64 * 1024];
  while (true) {
    std::vector<pollfd> fds = {{wake_fds_[0], POLLIN, 0}, {listen_fd_, POLLIN, 0}};
    if (!frozen_) {
      for (auto [a, b] : links) {
        fds.push_back({a, POLLIN, 0});
        fds.push_back({b, POLLIN, 0});
      }
    }
    // Short timeout so freeze() takes effect promptly even while data is flowing.
    if (::poll(fds.data(), fds.size(), 20) < 0) break;
    if (fds[0].revents != 0) break;
    if (fds[1].revents & POLLIN) {
      int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      int upstream = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in addr = loopback(upstream_port_);
      if (client >= 0 && upstream >= 0 &&
          ::connect(upstream, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
        links.emplace_back(client, upstream);
      } else {
        if (client >= 0) ::close(client);
        if (upstream >= 0) ::close(upstream);
      }
    }
    if (frozen_) continue;
    for (size_t i = 2; i < fds.size(); ++i) {
      if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      auto& link = links[(i - 2) / 2];
      if (link.first < 0) continue;  // closed earlier in this round
      int from = fds[i].fd;
      int to = from == link.first ? link.second : link.first;
      ssize_t n = ::read(from, buffer, sizeof buffer);
      if (n <= 0 || ::send(to, buffer, static_cast<size_t>(n), MSG_NOSIGNAL) != n) {
        // One side closed: close both, as a real link drop would.
        ::close(link.first);
        ::close(link.second);
        link = {-1, -1};
      }
    }
    std::erase_if(links, [](const auto& link) { return link.first < 0; });
  }
  for (auto [a, b] : links) {
    ::close(a);
    ::close(b);
  }
}

}  // namespace edgefl::testing
