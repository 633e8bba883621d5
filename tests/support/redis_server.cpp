#include "support/redis_server.hpp"

#include <arpa/inet.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace crosscut::testing {
namespace {

std::string render(const redisReply* r) {
  switch (r->type) {
    case REDIS_REPLY_NIL:
      return "(nil)";
    case REDIS_REPLY_INTEGER:
      return "(integer) " + std::to_string(r->integer);
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
      return std::string(r->str, r->len);
    case REDIS_REPLY_ARRAY: {
      std::string out = "[";
      for (std::size_t i = 0; i < r->elements; ++i) out += (i ? ", " : "") + render(r->element[i]);
      return out + "]";
    }
  }
  return "?";
}

}  // namespace

int free_loopback_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    throw std::runtime_error("cannot bind a loopback port");
  }
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

RedisServer::RedisServer() : RedisServer(Options{}) {}

namespace {

bool bindable(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

// A cluster node also listens on its port + 10000 (the cluster bus): both must be free, and
// the second a valid port.
int free_cluster_port() {
  for (int attempt = 0; attempt < 1000; ++attempt) {
    const int port = free_loopback_port();
    if (port <= 55535 && bindable(port + 10000)) return port;
  }
  throw std::runtime_error("no free loopback port pair for a cluster node");
}

}  // namespace

RedisServer::RedisServer(Options options)
    : options_(std::move(options)),
      port_(options_.cluster_dir.empty() ? free_loopback_port() : free_cluster_port()) {
  start();
}

RedisServer::~RedisServer() {
  kill();
}

std::string RedisServer::url() const {
  std::string cred = options_.password.empty() ? "" : ":" + options_.password + "@";
  return "redis://" + cred + "127.0.0.1:" + std::to_string(port_) + "/0";
}

void RedisServer::start() {
  const char* binary = "/usr/bin/redis-server";
  if (!std::filesystem::exists(binary))
    throw std::runtime_error("redis-server is not installed (apt-get install redis-server)");
  std::vector<std::string> args{binary,
                                "--port",
                                std::to_string(port_),
                                "--bind",
                                "127.0.0.1",
                                "--save",
                                "",
                                "--appendonly",
                                "no",
                                "--daemonize",
                                "no",
                                "--loglevel",
                                "warning",
                                "--logfile",
                                "/dev/null"};
  if (!options_.password.empty()) {
    args.push_back("--requirepass");
    args.push_back(options_.password);
  }
  if (!options_.cluster_dir.empty()) {
    // Without full coverage, the other masters keep serving their slots while one is down.
    for (const char* a : {"--cluster-enabled", "yes", "--cluster-node-timeout", "2000",
                          "--cluster-require-full-coverage", "no", "--dir"})
      args.emplace_back(a);
    args.push_back(options_.cluster_dir);
    args.emplace_back("--cluster-config-file");
    args.push_back("nodes-" + std::to_string(port_) + ".conf");
  }
  if (!options_.unix_socket.empty()) {
    args.push_back("--unixsocket");
    args.push_back(options_.unix_socket);
    args.push_back("--unixsocketperm");
    args.push_back("700");
  }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  if (posix_spawn(&pid_, binary, nullptr, nullptr, argv.data(), environ) != 0)
    throw std::runtime_error("cannot start redis-server");

  // Readiness: poll PING (an external process gives no other signal), bounded.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    timeval tv{0, 200'000};
    redisContext* c = redisConnectWithTimeout("127.0.0.1", port_, tv);
    if (c && !c->err) {
      auto* r = static_cast<redisReply*>(redisCommand(c, "PING"));
      bool ok = r != nullptr;  // PONG, or NOAUTH when a password is set: either way it answers
      if (r) freeReplyObject(r);
      redisFree(c);
      if (ok) return;
    } else if (c) {
      redisFree(c);
    }
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("redis-server exited at startup (port " + std::to_string(port_) +
                               ")");
    }
    std::this_thread::yield();
  }
  throw std::runtime_error("redis-server did not answer within 20 s");
}

void RedisServer::kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

std::string RedisServer::command(const std::vector<std::string>& args) const {
  timeval tv{2, 0};
  redisContext* c = redisConnectWithTimeout("127.0.0.1", port_, tv);
  if (!c || c->err) {
    if (c) redisFree(c);
    throw std::runtime_error("cannot reach the test redis-server");
  }
  if (!options_.password.empty()) {
    auto* a = static_cast<redisReply*>(redisCommand(c, "AUTH %s", options_.password.c_str()));
    if (a) freeReplyObject(a);
  }
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  auto* r = static_cast<redisReply*>(
      redisCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lens.data()));
  std::string out = r ? render(r) : std::string("(no reply)");
  if (r) freeReplyObject(r);
  redisFree(c);
  return out;
}

}  // namespace crosscut::testing
