// Running the built `crosscut` binary (or any program) from tests, and scratch folders.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace crosscut::testing {

struct ProcessResult {
  int exit_code = -1;  // 128 + signal number when killed by a signal
  std::string out;
  std::string err;
};

// Runs `argv` to completion with `input` on stdin; `env` entries are added to the
// environment (an empty value unsets the variable).
ProcessResult run_process(const std::vector<std::string>& argv, const std::string& input = {},
                          const std::map<std::string, std::string>& env = {});

// Runs the built crosscut binary with CROSSCUT_PLUGIN_PATH set to the build's plugin folder.
ProcessResult run_crosscut(const std::vector<std::string>& args, const std::string& input = {},
                           std::map<std::string, std::string> env = {});

// A program running in the background, for tests that signal it or talk to it while it runs.
class RunningProcess {
 public:
  RunningProcess(const std::vector<std::string>& argv,
                 const std::map<std::string, std::string>& env = {});
  RunningProcess(const RunningProcess&) = delete;
  RunningProcess& operator=(const RunningProcess&) = delete;
  ~RunningProcess();  // kills the process if it still runs

  // Blocks until `text` has appeared on stderr (true), or the process closed stderr or the
  // timeout passed (false). Everything read is kept.
  bool wait_for_stderr(const std::string& text, std::chrono::milliseconds timeout);
  void write_stdin(const std::string& data);
  void close_stdin();
  void signal(int sig);
  // Waits for exit (reading the rest of stdout/stderr) and returns the result.
  ProcessResult wait();
  int pid() const { return pid_; }

 private:
  void pump(int timeout_ms);
  int pid_ = -1;
  int in_ = -1, out_ = -1, err_ = -1;
  ProcessResult result_;
  bool done_ = false;
};

// Starts the built crosscut binary in the background (CROSSCUT_PLUGIN_PATH set as above).
std::unique_ptr<RunningProcess> start_crosscut(const std::vector<std::string>& args,
                                               std::map<std::string, std::string> env = {});

// A fresh folder under the system temp dir, removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }
  // Writes `content` to path()/name and returns the full path.
  std::filesystem::path write(const std::string& name, const std::string& content) const;

 private:
  std::filesystem::path path_;
};

}  // namespace crosscut::testing
