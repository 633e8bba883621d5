#include "support/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <stdexcept>

extern char** environ;

namespace crosscut::testing {
namespace {

void set_nonblocking(int fd) {
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

std::vector<std::string> merged_environment(const std::map<std::string, std::string>& env) {
  std::map<std::string, std::string> merged;
  for (char** e = environ; *e; ++e) {
    std::string kv(*e);
    auto eq = kv.find('=');
    if (eq != std::string::npos) merged[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& [k, v] : env) {
    if (v.empty())
      merged.erase(k);
    else
      merged[k] = v;
  }
  std::vector<std::string> out;
  out.reserve(merged.size());
  for (const auto& [k, v] : merged) out.push_back(std::string(k).append("=").append(v));
  return out;
}

struct Spawned {
  pid_t pid = -1;
  int in = -1;   // write end of the child's stdin
  int out = -1;  // read end of its stdout
  int err = -1;  // read end of its stderr
};

// Starts argv with pipes on its standard streams; throws when it cannot.
Spawned spawn_with_pipes(const std::vector<std::string>& argv,
                         const std::map<std::string, std::string>& env) {
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0)
    throw std::runtime_error("pipe failed");
  auto env_strings = merged_environment(env);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = argv;
  std::vector<char*> cargv;
  for (auto& a : args) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err[1], 2);
  Spawned s;
  int rc = posix_spawnp(&s.pid, cargv[0], &fa, nullptr, cargv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  close(in[0]);
  close(out[1]);
  close(err[1]);
  if (rc != 0) {
    close(in[1]);
    close(out[0]);
    close(err[0]);
    throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
  }
  s.in = in[1];
  s.out = out[0];
  s.err = err[0];
  return s;
}

}  // namespace

ProcessResult run_process(const std::vector<std::string>& argv, const std::string& input,
                          const std::map<std::string, std::string>& env) {
  Spawned child = spawn_with_pipes(argv, env);

  ProcessResult result;
  std::size_t written = 0;
  int in_fd = child.in;
  if (input.empty()) {
    close(in_fd);
    in_fd = -1;
  } else {
    set_nonblocking(in_fd);
  }
  set_nonblocking(child.out);
  set_nonblocking(child.err);
  signal(SIGPIPE, SIG_IGN);
  bool out_open = true, err_open = true;
  char buf[65536];
  while (out_open || err_open || in_fd >= 0) {
    pollfd fds[3];
    int n = 0;
    if (out_open) fds[n++] = {child.out, POLLIN, 0};
    if (err_open) fds[n++] = {child.err, POLLIN, 0};
    if (in_fd >= 0) fds[n++] = {in_fd, POLLOUT, 0};
    if (poll(fds, n, -1) < 0 && errno != EINTR) break;
    for (int i = 0; i < n; ++i) {
      if (fds[i].revents == 0) continue;
      if (fds[i].fd == in_fd) {
        ssize_t w = write(in_fd, input.data() + written, input.size() - written);
        if (w > 0) written += static_cast<std::size_t>(w);
        if (w < 0 && errno != EAGAIN) written = input.size();
        if (written >= input.size()) {
          close(in_fd);
          in_fd = -1;
        }
        continue;
      }
      ssize_t r = read(fds[i].fd, buf, sizeof buf);
      if (r > 0) {
        (fds[i].fd == child.out ? result.out : result.err).append(buf, static_cast<std::size_t>(r));
      } else if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
        if (fds[i].fd == child.out)
          out_open = false;
        else
          err_open = false;
      }
    }
  }
  close(child.out);
  close(child.err);
  int status = 0;
  while (waitpid(child.pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

ProcessResult run_crosscut(const std::vector<std::string>& args, const std::string& input,
                           std::map<std::string, std::string> env) {
  std::vector<std::string> argv{CROSSCUT_TEST_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  env.emplace("CROSSCUT_PLUGIN_PATH", CROSSCUT_TEST_PLUGIN_DIR);
  return run_process(argv, input, env);
}

RunningProcess::RunningProcess(const std::vector<std::string>& argv,
                               const std::map<std::string, std::string>& env) {
  Spawned child = spawn_with_pipes(argv, env);
  pid_ = child.pid;
  in_ = child.in;
  out_ = child.out;
  err_ = child.err;
  set_nonblocking(out_);
  set_nonblocking(err_);
  ::signal(SIGPIPE, SIG_IGN);
}

RunningProcess::~RunningProcess() {
  if (!done_) {
    ::kill(pid_, SIGKILL);
    wait();
  }
}

void RunningProcess::pump(int timeout_ms) {
  pollfd fds[2];
  int n = 0;
  if (out_ >= 0) fds[n++] = {out_, POLLIN, 0};
  if (err_ >= 0) fds[n++] = {err_, POLLIN, 0};
  if (n == 0) return;
  if (poll(fds, n, timeout_ms) <= 0) return;
  char buf[65536];
  for (int i = 0; i < n; ++i) {
    if (fds[i].revents == 0) continue;
    ssize_t r = read(fds[i].fd, buf, sizeof buf);
    bool is_out = fds[i].fd == out_;
    if (r > 0) {
      (is_out ? result_.out : result_.err).append(buf, static_cast<std::size_t>(r));
    } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
      close(fds[i].fd);
      (is_out ? out_ : err_) = -1;
    }
  }
}

bool RunningProcess::wait_for_stderr(const std::string& text, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (result_.err.find(text) == std::string::npos) {
    if (err_ < 0) return false;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pump(static_cast<int>(left.count()));
  }
  return true;
}

void RunningProcess::write_stdin(const std::string& data) {
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t w = write(in_, data.data() + done, data.size() - done);
    if (w < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error("write to child stdin failed");
    }
    done += static_cast<std::size_t>(w);
  }
}

void RunningProcess::close_stdin() {
  if (in_ >= 0) close(in_);
  in_ = -1;
}

void RunningProcess::signal(int sig) {
  ::kill(pid_, sig);
}

ProcessResult RunningProcess::wait() {
  close_stdin();
  while (out_ >= 0 || err_ >= 0) pump(-1);
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  result_.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  done_ = true;
  return result_;
}

std::unique_ptr<RunningProcess> start_crosscut(const std::vector<std::string>& args,
                                               std::map<std::string, std::string> env) {
  std::vector<std::string> argv{CROSSCUT_TEST_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  env.emplace("CROSSCUT_PLUGIN_PATH", CROSSCUT_TEST_PLUGIN_DIR);
  return std::make_unique<RunningProcess>(argv, env);
}

TempDir::TempDir() {
  std::random_device rd;
  for (int attempt = 0; attempt < 100; ++attempt) {
    auto p = std::filesystem::temp_directory_path() /
             ("crosscut-test-" + std::to_string(getpid()) + "-" + std::to_string(rd()));
    if (std::filesystem::create_directory(p)) {
      path_ = p;
      return;
    }
  }
  throw std::runtime_error("cannot create a temporary directory");
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::filesystem::path TempDir::write(const std::string& name, const std::string& content) const {
  auto p = path_ / name;
  std::filesystem::create_directories(p.parent_path());
  std::ofstream f(p, std::ios::binary);
  f << content;
  return p;
}

}  // namespace crosscut::testing
