#include "input_options.hpp"

#include <chrono>
#include <string>

namespace crosscut::local_inputs {
namespace {

sdk::OptionSpec max_line_option() {
  return {.key = "max_line",
          .type = sdk::OptionType::size,
          .default_value = "1MiB",
          .description = "longer lines are reported as bad input and skipped",
          .positive = true};
}

sdk::OptionSpec path_option(std::string description) {
  return {.key = "path",
          .type = sdk::OptionType::string,
          .description = std::move(description),
          .required = true};
}

}  // namespace

sdk::ConfigSchema stdin_schema() {
  return {max_line_option()};
}

sdk::ConfigSchema file_schema() {
  return {
      path_option("the NDJSON file to read"),
      {.key = "follow",
       .type = sdk::OptionType::boolean,
       .default_value = "false",
       .description = "keep reading appended lines across rotation and truncation, like tail -F"},
      {.key = "start_at",
       .type = sdk::OptionType::string,
       .default_value = "beginning",
       .description = "where to start in the file present at startup",
       .choices = {"beginning", "end"}},
      {.key = "poll_interval",
       .type = sdk::OptionType::duration,
       .default_value = "250ms",
       .description = "followed: how often to look at an idle file when inotify is silent",
       .positive = true},
      max_line_option(),
  };
}

sdk::ConfigSchema unix_schema() {
  return {
      path_option("the Unix stream socket to listen on (a stale one is replaced)"),
      {.key = "mode",
       .type = sdk::OptionType::string,
       .default_value = "0660",
       .description = "permissions of the socket file, octal"},
      {.key = "max_clients",
       .type = sdk::OptionType::integer,
       .default_value = "256",
       .description = "connections served at once; more wait in the listen backlog",
       .min = 1},
      max_line_option(),
  };
}

std::size_t read_max_line(const sdk::ConfigView& options) {
  const auto bytes = options.get_size("max_line", kDefaultMaxLine);
  if (bytes == 0) options.fail("max_line", "must be > 0");
  if (bytes > (std::uint64_t{1} << 30)) options.fail("max_line", "must be at most 1GiB");
  return static_cast<std::size_t>(bytes);
}

FileInputOptions read_file_options(const sdk::ConfigView& options) {
  FileInputOptions o;
  o.path = options.get_string("path");
  if (o.path.empty()) options.fail("path", "a file path is required");
  o.follow = options.get_bool("follow", false);
  const auto start_at = options.get_string("start_at", "beginning");
  if (start_at != "beginning" && start_at != "end")
    options.fail("start_at", "expected beginning or end, got '" + start_at + "'");
  o.start_at_end = start_at == "end";
  const auto interval = std::chrono::ceil<std::chrono::milliseconds>(
      options.get_duration("poll_interval", o.poll_interval));
  if (interval.count() <= 0) options.fail("poll_interval", "must be > 0");
  if (interval > std::chrono::seconds(60)) options.fail("poll_interval", "must be at most 60s");
  o.poll_interval = interval;
  o.max_line = read_max_line(options);
  return o;
}

UnixSocketOptions read_unix_options(const sdk::ConfigView& options) {
  UnixSocketOptions o;
  o.path = options.get_string("path");
  if (o.path.empty()) options.fail("path", "a socket path is required");
  const auto mode = options.get_string("mode", "0660");
  if (!parse_socket_mode(mode, o.mode) || o.mode > 07777)
    options.fail("mode", "expected octal permissions such as 0660, got '" + mode + "'");
  const auto clients = options.get_int("max_clients", 256);
  if (clients < 1) options.fail("max_clients", "must be at least 1");
  o.max_clients = static_cast<std::size_t>(clients);
  o.max_line = read_max_line(options);
  return o;
}

}  // namespace crosscut::local_inputs
