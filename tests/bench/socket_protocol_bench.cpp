// The agent's socket protocol, end to end over a Unix socket to a real `crosscut run`:
//  - acquire_round_trip: one `acquire` at a time (send, wait for the reply), with p50/p99;
//  - acquire_pipelined: bursts of 1000 acquires on one connection, replies read as they come.
// The peers, in the same run: redis-server on a Unix socket doing the same shape of work with
// INCR (a small state change per request, one reply line each), and the floor of the machine:
// a thread that echoes every byte back over a Unix socket, doing no work at all.
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "peer_ratio_reporter.hpp"
#include "support/process.hpp"
#include "support/redis_server.hpp"
#include "support/unix_client.hpp"

namespace {

using Clock = std::chrono::steady_clock;

constexpr int kBurst = 1000;

crosscut::testing::TempDir& dir() {
  static crosscut::testing::TempDir d;
  return d;
}

// The agent, started once for the run, with the default in-memory breakers.
const std::string& agent_socket() {
  static const std::string path = (dir().path() / "events.sock").string();
  static const auto agent = [] {
    auto config =
        dir().write("agent.yaml",
                    "logging: {level: warning}\ninputs: [{type: unix, path: \"" + path + "\"}]\n");
    auto p = crosscut::testing::start_crosscut({"run", "-c", config.string()});
    p->wait_for_stderr("crosscut agent started", std::chrono::seconds(30));
    return p;
  }();
  (void)agent;
  return path;
}

const std::string& redis_socket() {
  static const std::string path = (dir().path() / "redis.sock").string();
  static crosscut::testing::RedisServer server(
      {.password = "", .unix_socket = path, .cluster_dir = ""});
  (void)server;
  return path;
}

// Echoes every byte it reads on a listening Unix socket, one client at a time, until the
// process ends: what a round trip costs here with no work in it.
const std::string& echo_socket() {
  static const std::string path = (dir().path() / "echo.sock").string();
  static const bool started = [] {
    const int listener = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::snprintf(a.sun_path, sizeof a.sun_path, "%s", path.c_str());
    if (::bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::listen(listener, 4) != 0)
      return false;
    std::thread([listener] {
      for (;;) {
        const int fd = ::accept(listener, nullptr, nullptr);
        if (fd < 0) return;
        char buffer[65536];
        for (ssize_t n; (n = ::recv(fd, buffer, sizeof buffer, 0)) > 0;)
          if (!crosscut::testing::send_all(fd, std::string(buffer, static_cast<std::size_t>(n))))
            break;
        ::close(fd);
      }
    }).detach();
    return true;
  }();
  (void)started;
  return path;
}

// One request/reply conversation: `request` is written, then `replies` lines (ended by
// `terminator`) are read.
class Conversation {
 public:
  Conversation(const std::string& socket, std::string terminator)
      : fd_(crosscut::testing::connect_unix(socket)), terminator_(std::move(terminator)) {}
  ~Conversation() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool connected() const { return fd_ >= 0; }

  // False when the server closed or sent something else than the expected number of lines.
  bool exchange(const std::string& request, int replies) {
    if (!crosscut::testing::send_all(fd_, request)) return false;
    int seen = 0;
    while (seen < replies) {
      char chunk[65536];
      const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n <= 0) return false;
      pending_.append(chunk, static_cast<std::size_t>(n));
      std::size_t at = 0;
      for (std::size_t nl; (nl = pending_.find(terminator_, at)) != std::string::npos;
           at = nl + terminator_.size())
        ++seen;
      pending_.erase(0, at);
    }
    return seen == replies;
  }

 private:
  int fd_;
  std::string terminator_;
  std::string pending_;
};

std::string acquire_line(int i) {
  return R"({"event":"acquire","resource":"upbit/korea/ticker","id":)" + std::to_string(i) + "}\n";
}
// INCR on a key per exchange: RESP, one integer reply line per request.
std::string incr_command() {
  return "*2\r\n$4\r\nINCR\r\n$18\r\nupbit/korea/ticker\r\n";
}

void round_trip(benchmark::State& state, const std::string& socket, const std::string& terminator,
                const std::string& request) {
  Conversation c(socket, terminator);
  if (!c.connected()) return state.SkipWithError("cannot connect");
  std::vector<double> ns;
  ns.reserve(1 << 20);
  for (auto _ : state) {
    const auto start = Clock::now();
    if (!c.exchange(request, 1)) return state.SkipWithError("the server hung up");
    ns.push_back(std::chrono::duration<double, std::nano>(Clock::now() - start).count());
  }
  std::sort(ns.begin(), ns.end());
  state.counters["p50_ns"] = ns[ns.size() / 2];
  state.counters["p99_ns"] = ns[ns.size() * 99 / 100];
  state.SetItemsProcessed(state.iterations());
}

void pipelined(benchmark::State& state, const std::string& socket, const std::string& terminator,
               const std::string& burst) {
  Conversation c(socket, terminator);
  if (!c.connected()) return state.SkipWithError("cannot connect");
  for (auto _ : state)
    if (!c.exchange(burst, kBurst)) return state.SkipWithError("the server hung up");
  state.counters["replies_per_s"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * kBurst, benchmark::Counter::kIsRate);
}

void crosscut_round_trip(benchmark::State& state) {
  round_trip(state, agent_socket(), "\n", acquire_line(1));
}
void redis_round_trip(benchmark::State& state) {
  round_trip(state, redis_socket(), "\r\n", incr_command());
}
void crosscut_pipelined(benchmark::State& state) {
  std::string burst;
  for (int i = 0; i < kBurst; ++i) burst += acquire_line(i);
  pipelined(state, agent_socket(), "\n", burst);
}
void redis_pipelined(benchmark::State& state) {
  std::string burst;
  for (int i = 0; i < kBurst; ++i) burst += incr_command();
  pipelined(state, redis_socket(), "\r\n", burst);
}

void echo_round_trip(benchmark::State& state) {
  round_trip(state, echo_socket(), "\n", acquire_line(1));
}
void echo_pipelined(benchmark::State& state) {
  std::string burst;
  for (int i = 0; i < kBurst; ++i) burst += acquire_line(i);
  pipelined(state, echo_socket(), "\n", burst);
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::RegisterBenchmark("crosscut/acquire_round_trip", crosscut_round_trip)
      ->MinTime(0.5)
      ->UseRealTime();
  benchmark::RegisterBenchmark("redis_incr/acquire_round_trip", redis_round_trip)
      ->MinTime(0.5)
      ->UseRealTime();
  benchmark::RegisterBenchmark("echo_floor/acquire_round_trip", echo_round_trip)
      ->MinTime(0.5)
      ->UseRealTime();
  benchmark::RegisterBenchmark("crosscut/acquire_pipelined_1000", crosscut_pipelined)
      ->MinTime(0.5)
      ->UseRealTime();
  benchmark::RegisterBenchmark("redis_incr/acquire_pipelined_1000", redis_pipelined)
      ->MinTime(0.5)
      ->UseRealTime();
  benchmark::RegisterBenchmark("echo_floor/acquire_pipelined_1000", echo_pipelined)
      ->MinTime(0.5)
      ->UseRealTime();
  return crosscut::bench::run_with_ratios(argc, argv, "crosscut", {"redis_incr", "echo_floor"});
}
