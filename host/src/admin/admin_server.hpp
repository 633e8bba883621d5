// The admin endpoint (`admin.listen`): health, readiness, Prometheus metrics and reloads over
// HTTP, on threads of its own.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "crosscut/runtime.hpp"
#include "crosscut/sdk/log.hpp"

namespace httplib {
class Server;
}

namespace crosscut::admin {

// What the endpoint asks the runtime. Each is called on one of the endpoint's threads, and
// must be thread-safe.
struct AdminRoutes {
  std::function<bool()> healthy;          // GET /health: 200 while true, else 503
  std::function<Readiness()> readiness;   // GET /ready: 200 when ready, else 503 and why
  std::function<std::string()> metrics;   // GET /metrics: the text exposition
  std::function<ReloadOutcome()> reload;  // POST /reload: 200 or 500, with the outcome
};

// Thread-safety: construct and destroy on one thread; requests are served meanwhile.
class AdminServer {
 public:
  // Binds `listen`, "host:port" (a numeric IPv4 or IPv6 address, or a name, and a port) or
  // the path of a Unix socket (starting with '/'; a stale socket file is replaced), and starts
  // serving. Throws std::runtime_error with one line naming the address when it cannot.
  AdminServer(const std::string& listen, AdminRoutes routes, sdk::Logger& log);
  // Stops serving (requests under way finish) and joins the threads.
  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  // Where it listens: "127.0.0.1:9464" with the port bound (port 0 picks one), or the path.
  const std::string& address() const { return address_; }

 private:
  AdminRoutes routes_;
  std::unique_ptr<httplib::Server> server_;
  std::string address_;
  std::string socket_path_;  // removed at destruction
  std::thread thread_;
};

// The `admin` section's `listen`, checked: "" (off), "host:port" or an absolute socket path.
// Returns "" when it is valid, else what is wrong.
std::string check_listen_address(const std::string& listen);

}  // namespace crosscut::admin
