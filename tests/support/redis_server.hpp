// A real redis-server on a free loopback port, started for one test and killed after it.
// In CI a missing redis-server binary is a failure, never a skip.
#pragma once

#include <string>
#include <vector>

#include <sys/types.h>

namespace crosscut::testing {

class RedisServer {
 public:
  struct Options {
    std::string password;     // requirepass, when not empty
    std::string unix_socket;  // also listen on this socket, when not empty
    // A Redis Cluster node (--cluster-enabled) keeping its nodes.conf in this folder, which
    // must outlive the server: a node restarted with start() rejoins its cluster from it.
    std::string cluster_dir;
  };

  RedisServer();
  explicit RedisServer(Options options);
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;
  ~RedisServer();

  int port() const { return port_; }
  // redis://127.0.0.1:<port>/0 (with the password when there is one)
  std::string url() const;

  // Stops the server (SIGKILL: an abrupt outage) and waits for it to exit.
  void kill();
  // Starts it again on the same port and waits until it answers PING.
  void start();

  // Runs one command through a fresh connection; the reply rendered as text
  // ("(nil)", "(integer) 5", "OK", "ERR …", arrays as "[a, b]"). Throws when unreachable.
  std::string command(const std::vector<std::string>& args) const;

 private:
  Options options_;
  int port_ = 0;
  pid_t pid_ = -1;
};

// A free TCP port on 127.0.0.1 (bound and released; good enough for tests).
int free_loopback_port();

}  // namespace crosscut::testing
