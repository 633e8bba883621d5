// Running the built `crosscut` binary (or any program) from tests, and scratch folders.
#pragma once

#include <filesystem>
#include <map>
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
