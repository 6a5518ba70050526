#include "tcp_proxy.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <utility>
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

ClosedPort::ClosedPort() : socket_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
  sockaddr_in addr = loopback(0);
  socklen_t len = sizeof addr;
  if (socket_.valid() && ::bind(socket_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(socket_.get(), reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port_ = ntohs(addr.sin_port);
  }
}

std::string ClosedPort::endpoint() const {
  return "tcp://127.0.0.1:" + std::to_string(port_);
}

uint16_t endpoint_port(const std::string& endpoint) {
  return static_cast<uint16_t>(std::stoi(endpoint.substr(endpoint.rfind(':') + 1)));
}

TcpProxy::TcpProxy(uint16_t upstream_port) : upstream_port_(upstream_port) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return;
  wake_read_ = UniqueFd(pipe_fds[0]);
  wake_write_ = UniqueFd(pipe_fds[1]);
  UniqueFd listening(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr = loopback(0);
  socklen_t len = sizeof addr;
  if (!listening.valid() || ::bind(listening.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listening.get(), 16) != 0 ||
      ::getsockname(listening.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return;
  }
  port_ = ntohs(addr.sin_port);
  listen_ = std::move(listening);
  thread_ = std::thread([this] { run(); });
}

TcpProxy::~TcpProxy() {
  if (thread_.joinable()) {
    char stop = 1;
    (void)::write(wake_write_.get(), &stop, 1);
    thread_.join();
  }
}

std::string TcpProxy::endpoint() const {
  return "tcp://127.0.0.1:" + std::to_string(port_);
}

void TcpProxy::run() {
  // Connected pairs: data read from one side is written to the other.
  struct Link {
    UniqueFd client, upstream;
  };
  std::vector<Link> links;
  char buffer[64 * 1024];
  while (true) {
    std::vector<pollfd> fds = {{wake_read_.get(), POLLIN, 0}, {listen_.get(), POLLIN, 0}};
    if (!frozen_) {
      for (const Link& link : links) {
        fds.push_back({link.client.get(), POLLIN, 0});
        fds.push_back({link.upstream.get(), POLLIN, 0});
      }
    }
    // Short timeout so freeze() takes effect promptly even while data is flowing.
    if (::poll(fds.data(), fds.size(), 20) < 0) break;
    if (fds[0].revents != 0) break;
    if (fds[1].revents & POLLIN) {
      UniqueFd client(::accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC));
      UniqueFd upstream(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
      sockaddr_in addr = loopback(upstream_port_);
      if (client.valid() && upstream.valid() &&
          ::connect(upstream.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
        links.push_back({std::move(client), std::move(upstream)});
      }
    }
    if (frozen_) continue;
    for (size_t i = 2; i < fds.size(); ++i) {
      if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      Link& link = links[(i - 2) / 2];
      if (!link.client.valid()) continue;  // closed earlier in this round
      const int from = fds[i].fd;
      const int to = from == link.client.get() ? link.upstream.get() : link.client.get();
      ssize_t n = ::read(from, buffer, sizeof buffer);
      if (n <= 0 || ::send(to, buffer, static_cast<size_t>(n), MSG_NOSIGNAL) != n) {
        // One side closed: close both, as a real link drop would.
        link = Link{};
      }
    }
    std::erase_if(links, [](const Link& link) { return !link.client.valid(); });
  }
}

}  // namespace edgefl::testing
