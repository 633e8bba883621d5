#include "admin/admin_server.hpp"

#include <httplib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "admin/prometheus_text.hpp"

namespace crosscut::admin {
namespace {

struct HostPort {
  std::string host;
  int port = -1;
};

// "127.0.0.1:9464", "[::1]:9464", "localhost:9464".
bool split_host_port(const std::string& listen, HostPort& out) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == listen.size()) return false;
  std::string host = listen.substr(0, colon);
  if (host.front() == '[') {
    if (host.back() != ']' || host.size() < 3) return false;
    host = host.substr(1, host.size() - 2);
  }
  int port = 0;
  for (char c : listen.substr(colon + 1)) {
    if (c < '0' || c > '9') return false;
    port = port * 10 + (c - '0');
    if (port > 65535) return false;
  }
  out = {std::move(host), port};
  return true;
}

const char* not_ready_reason(Readiness r) {
  switch (r) {
    case Readiness::starting:
      return "starting: components are being built or the inputs are not running yet";
    case Readiness::reloading:
      return "reloading the configuration";
    case Readiness::stopping:
      return "stopping";
    case Readiness::ready:
      return "ready";
  }
  return "unknown";
}

}  // namespace

std::string check_listen_address(const std::string& listen) {
  if (listen.empty()) return "";
  if (listen.front() == '/') {
    if (listen.size() >= 108) return "a Unix socket path is at most 107 bytes";
    return "";
  }
  HostPort hp;
  if (!split_host_port(listen, hp))
    return "expected \"host:port\" (e.g. \"127.0.0.1:9464\") or an absolute Unix socket path";
  return "";
}

AdminServer::AdminServer(const std::string& listen, AdminRoutes routes, sdk::Logger& log)
    : routes_(std::move(routes)), server_(std::make_unique<httplib::Server>()) {
  auto& s = *server_;
  // A worker serves one connection while it is kept alive: four of them, and idle
  // connections closed after 2 s, so that a slow reload or a scraper does not hold up /health.
  s.new_task_queue = [] { return new httplib::ThreadPool(4); };
  s.set_read_timeout(std::chrono::seconds(5));
  s.set_write_timeout(std::chrono::seconds(5));
  s.set_keep_alive_timeout(2);
  s.set_keep_alive_max_count(100);
  s.set_payload_max_length(64 * 1024);
  // httplib's default also sets SO_REUSEPORT, which would let a second agent share the port
  // unnoticed: an address in use must be an error.
  s.set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  s.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
    const bool ok = routes_.healthy();
    res.status = ok ? 200 : 503;
    res.set_content(ok ? "ok\n" : "stopping\n", "text/plain");
  });
  s.Get("/ready", [this](const httplib::Request&, httplib::Response& res) {
    const Readiness r = routes_.readiness();
    res.status = r == Readiness::ready ? 200 : 503;
    res.set_content(std::string(not_ready_reason(r)) + "\n", "text/plain");
  });
  s.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(routes_.metrics(), kPrometheusContentType);
  });
  s.Post("/reload", [this](const httplib::Request&, httplib::Response& res) {
    const ReloadOutcome outcome = routes_.reload();
    res.status = outcome.ok ? 200 : 500;
    res.set_content(outcome.message + "\n", "text/plain");
  });

  bool bound = false;
  std::string reason;
  if (!listen.empty() && listen.front() == '/') {
    // A socket file left by a process that is gone is replaced; anything else is not touched.
    struct stat st {};
    if (::lstat(listen.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) ::unlink(listen.c_str());
    s.set_address_family(AF_UNIX);
    bound = s.bind_to_port(listen, 80);
    if (bound) socket_path_ = listen;
    address_ = listen;
  } else {
    HostPort hp;
    if (!split_host_port(listen, hp))
      throw std::runtime_error("admin.listen '" + listen + "': " + check_listen_address(listen));
    if (hp.port == 0) {
      const int port = s.bind_to_any_port(hp.host);
      bound = port > 0;
      hp.port = port;
    } else {
      bound = s.bind_to_port(hp.host, hp.port);
    }
    address_ = (hp.host.find(':') != std::string::npos ? "[" + hp.host + "]" : hp.host) + ":" +
               std::to_string(hp.port);
  }
  if (!bound) {
    reason = errno != 0 ? std::strerror(errno) : "cannot bind";
    throw std::runtime_error("admin.listen '" + listen + "': cannot listen: " + reason);
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  // stop() only reaches a server that is listening: wait for it (httplib has no signal).
  while (!server_->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  log.info("admin endpoint listening", {{"address", address_}});
}

AdminServer::~AdminServer() {
  server_->stop();
  if (thread_.joinable()) thread_.join();
  if (!socket_path_.empty()) ::unlink(socket_path_.c_str());
}

}  // namespace crosscut::admin
