#include "input_options.hpp"

#include <cstdint>
#include <cstdio>
#include <string>

namespace crosscut::local_inputs {
namespace {

// The tables bound these from below only; the upper bounds are the checks' (check_*_options).
constexpr std::chrono::seconds kPollIntervalLimit{60};
// Each client holds a descriptor and up to max_line of buffered line: far more than any
// process's descriptor limit is a typing mistake.
constexpr std::int64_t kMaxClientsLimit = 65536;

template <class S>
auto max_line_row() {
  return sdk::bind_option("max_line", &S::max_line,
                          "longer lines are reported as bad input and skipped; at most 64MiB")
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
          .min(sdk::kMinimumInterval),
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
                       "clients served at once; a connection over it is closed at once")
          .min(1)
          .max(kMaxClientsLimit),
      sdk::bind_option("idle_timeout", &UnixSocketOptions::idle_timeout,
                       "a client that sends nothing for this long is disconnected; at most 24h")
          .positive(),
      max_line_row<UnixSocketOptions>(),
  };
  return table;
}

void check_max_line(sdk::ByteSize max_line, const sdk::ConfigView& view) {
  if (max_line.bytes > kMaxLineCap) view.fail("max_line", "must be at most 64MiB");
}

void check_file_options(const FileInputOptions& options, const sdk::ConfigView& view) {
  // Present but empty passes the host's `required` check; it names no file.
  if (options.path.empty()) view.fail("path", "a file path is required");
  if (options.poll_interval > kPollIntervalLimit) view.fail("poll_interval", "must be at most 60s");
  check_max_line(options.max_line, view);
}

void check_unix_options(const UnixSocketOptions& options, const sdk::ConfigView& view) {
  if (options.path.empty()) view.fail("path", "a socket path is required");
  socket_mode(view);
  if (options.idle_timeout > kIdleTimeoutCap) view.fail("idle_timeout", "must be at most 24h");
  check_max_line(options.max_line, view);
}

mode_t socket_mode(const sdk::ConfigView& view) {
  mode_t mode = UnixSocketOptions{}.mode;
  if (view.has("mode")) {
    const std::string text = view.get_string("mode");
    if (!parse_socket_mode(text, mode))
      view.fail("mode", "expected octal permissions such as 0660, got '" + text + "'");
  }
  return mode;
}

bool parse_socket_mode(const std::string& text, mode_t& mode) {
  // At most four digits: 07777 is the largest permission value.
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
