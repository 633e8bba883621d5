#include "input_options.hpp"

#include <cstdint>
#include <cstdio>
#include <string>

namespace crosscut::local_inputs {
namespace {

// The host bounds sizes and durations from below only: these upper bounds are checked here.
constexpr std::uint64_t kMaxLineLimit = std::uint64_t{1} << 30;
constexpr std::chrono::seconds kPollIntervalLimit{60};

template <class S>
auto max_line_row() {
  return sdk::bind_option("max_line", &S::max_line,
                          "longer lines are reported as bad input and skipped")
      .positive();
}

std::string octal_text(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode));
  return text;
}

sdk::UnboundOption mode_row() {
  auto row = sdk::unbound("mode", sdk::OptionType::string, "permissions of the socket file, octal");
  row.spec.default_value = octal_text(UnixSocketOptions{}.mode);  // the struct's default
  return row;
}

}  // namespace

const sdk::OptionTable<StdinInputOptions>& stdin_input_options() {
  static const sdk::OptionTable<StdinInputOptions> table{max_line_row<StdinInputOptions>()};
  return table;
}

const sdk::OptionTable<FileInputOptions>& file_input_options() {
  using StartAt = FileInputOptions::StartAt;
  static const sdk::OptionTable<FileInputOptions> table{
      sdk::bind_option("path", &FileInputOptions::path, "the NDJSON file to read").required(),
      sdk::bind_option("follow", &FileInputOptions::follow,
                       "keep reading appended lines across rotation and truncation, like tail -F"),
      sdk::bind_option("start_at", &FileInputOptions::start_at,
                       "where to start in the file present at startup")
          .choices({{"beginning", StartAt::beginning}, {"end", StartAt::end}}),
      sdk::bind_option("poll_interval", &FileInputOptions::poll_interval,
                       "followed: how often to look at an idle file when inotify is silent")
          .positive(),
      max_line_row<FileInputOptions>(),
  };
  return table;
}

const sdk::OptionTable<UnixSocketOptions>& unix_input_options() {
  static const sdk::OptionTable<UnixSocketOptions> table{
      sdk::bind_option("path", &UnixSocketOptions::path,
                       "the Unix stream socket to listen on (a stale one is replaced)")
          .required(),
      mode_row(),
      sdk::bind_option("max_clients", &UnixSocketOptions::max_clients,
                       "connections served at once; more wait in the listen backlog")
          .min(1),
      max_line_row<UnixSocketOptions>(),
  };
  return table;
}

void check_max_line(sdk::ByteSize max_line, const sdk::ConfigView& view) {
  if (max_line.bytes > kMaxLineLimit) view.fail("max_line", "must be at most 1GiB");
}

const FileInputOptions& check_file_options(const FileInputOptions& options,
                                           const sdk::ConfigView& view) {
  // Present but empty passes the host's `required` check; it names no file.
  if (options.path.empty()) view.fail("path", "a file path is required");
  if (options.poll_interval > kPollIntervalLimit) view.fail("poll_interval", "must be at most 60s");
  check_max_line(options.max_line, view);
  return options;
}

UnixSocketOptions check_unix_options(UnixSocketOptions options, const sdk::ConfigView& view) {
  if (options.path.empty()) view.fail("path", "a socket path is required");
  if (view.has("mode")) {
    const std::string mode = view.get_string("mode");
    if (!parse_socket_mode(mode, options.mode) || options.mode > 07777)
      view.fail("mode", "expected octal permissions such as 0660, got '" + mode + "'");
  }
  check_max_line(options.max_line, view);
  return options;
}

bool parse_socket_mode(const std::string& text, mode_t& mode) {
  if (text.empty() || text.size() > 4) return false;
  mode_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '7') return false;
    value = value * 8 + static_cast<mode_t>(c - '0');
  }
  mode = value;
  return true;
}

}  // namespace crosscut::local_inputs
