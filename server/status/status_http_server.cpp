#include "status_http_server.hpp"

#include <httplib.h>

#include <cctype>
#include <chrono>
#include <fstream>
#include <sstream>

#include "status_listen.hpp"
#include "status_render.hpp"

namespace edgefl::server {

namespace {

constexpr std::size_t kMaxTokenBytes = 4096;

Result<std::string> read_token(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file)
    return make_status(StatusCode::not_found, "cannot read status.token_file '" + path + "'");
  std::ostringstream text;
  text << file.rdbuf();
  std::string token = text.str();
  while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) token.pop_back();
  if (token.empty() || token.size() > kMaxTokenBytes) {
    return make_status(StatusCode::invalid_argument,
                       "status.token_file '" + path + "' must hold one token of 1 to 4096 bytes");
  }
  for (char c : token) {
    if (std::isspace(static_cast<unsigned char>(c)) ||
        !std::isprint(static_cast<unsigned char>(c))) {
      return make_status(
          StatusCode::invalid_argument,
          "status.token_file '" + path + "': the token must be printable, without spaces");
    }
  }
  return token;
}

// Compares every byte whatever differs first, so the time taken says nothing about the token.
bool same_token(std::string_view presented, std::string_view expected) {
  if (presented.size() != expected.size()) return false;
  unsigned char difference = 0;
  for (std::size_t i = 0; i < expected.size(); ++i)
    difference |= static_cast<unsigned char>(presented[i] ^ expected[i]);
  return difference == 0;
}

Result<std::unique_ptr<httplib::Server>> make_http(const StatusConfig& config) {
  if (config.tls_cert.empty()) return std::make_unique<httplib::Server>();
  auto https =
      std::make_unique<httplib::SSLServer>(config.tls_cert.c_str(), config.tls_key.c_str());
  if (!https->is_valid()) {
    return make_status(StatusCode::invalid_argument,
                       "cannot load the status endpoint's TLS certificate '" + config.tls_cert +
                           "' and key '" + config.tls_key + "'");
  }
  return std::unique_ptr<httplib::Server>(std::move(https));
}

void add_routes(httplib::Server& http, const SnapshotBoard& board, std::string token) {
  http.new_task_queue = [] { return new httplib::ThreadPool(2); };
  http.set_pre_routing_handler([token = std::move(token)](const httplib::Request& request,
                                                          httplib::Response& response) {
    if (token.empty() || request.path == "/") return httplib::Server::HandlerResponse::Unhandled;
    const std::string header = request.get_header_value("Authorization");
    constexpr std::string_view kBearer = "Bearer ";
    if (header.starts_with(kBearer) &&
        same_token(std::string_view(header).substr(kBearer.size()), token)) {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    response.status = 401;
    response.set_header("WWW-Authenticate", "Bearer");
    response.set_content("401: this endpoint needs Authorization: Bearer <token>\n", "text/plain");
    return httplib::Server::HandlerResponse::Handled;
  });
  auto unavailable = [](httplib::Response& response) {
    response.status = 503;
    response.set_content("503: the server has not published its state yet\n", "text/plain");
  };
  http.Get("/metrics", [&board, unavailable](const httplib::Request&, httplib::Response& response) {
    std::shared_ptr<const FleetSnapshot> snapshot = board.current();
    if (!snapshot) return unavailable(response);
    response.set_content(prometheus_text(*snapshot), std::string(kPrometheusContentType));
  });
  http.Get("/status",
           [&board, unavailable](const httplib::Request& request, httplib::Response& response) {
             Result<PageRequest> page = parse_page_request(request.get_param_value("page"),
                                                           request.get_param_value("per_page"));
             if (!page) {
               response.status = 400;
               response.set_content("400: " + page.status().to_string() + "\n", "text/plain");
               return;
             }
             std::shared_ptr<const FleetSnapshot> snapshot = board.current();
             if (!snapshot) return unavailable(response);
             response.set_content(status_json(*snapshot, *page), "application/json");
           });
  http.Get("/", [](const httplib::Request&, httplib::Response& response) {
    response.set_content(std::string(status_page_html()), "text/html; charset=utf-8");
  });
}

}  // namespace

StatusHttpServer::StatusHttpServer(std::unique_ptr<httplib::Server> http, std::string address,
                                   bool tls)
    : http_(std::move(http)), address_(std::move(address)), tls_(tls) {
  listener_ = std::thread([this] {
    http_->listen_after_bind();
    listener_done_ = true;
  });
  // stop() does nothing to a server not yet running, which would then run for ever: the
  // destructor may only call it once the listener is in its accept loop (or has left it).
  while (!http_->is_running() && !listener_done_)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

StatusHttpServer::~StatusHttpServer() {
  http_->stop();
  if (listener_.joinable()) listener_.join();
}

Result<std::unique_ptr<StatusHttpServer>> StatusHttpServer::start(const StatusConfig& config,
                                                                  const SnapshotBoard& board) {
  Result<StatusListen> listen = parse_status_listen(config.listen);
  if (!listen) return listen.status();
  std::string token;
  if (!config.token_file.empty()) {
    Result<std::string> read = read_token(config.token_file);
    if (!read) return read.status();
    token = std::move(*read);
  }
  Result<std::unique_ptr<httplib::Server>> http = make_http(config);
  if (!http) return http.status();
  add_routes(**http, board, std::move(token));
  std::string host = listen->host;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  int port = listen->port;
  if (port == 0) {
    port = (*http)->bind_to_any_port(host);
  } else if (!(*http)->bind_to_port(host, port)) {
    port = -1;
  }
  if (port <= 0) {
    return make_status(StatusCode::unavailable,
                       "cannot listen on status.listen='" + config.listen + "'");
  }
  const std::string address = listen->host + ":" + std::to_string(port);
  return std::unique_ptr<StatusHttpServer>(
      new StatusHttpServer(std::move(*http), address, !config.tls_cert.empty()));
}

}  // namespace edgefl::server
