#include "error_ledger_handler.hpp"

#include <cerrno>
#include <cstring>
#include <ctime>
#include <stdexcept>

namespace vendor_rules {

namespace sdk = crosscut::sdk;

namespace {

void append_clean(std::string& out, std::string_view text) {
  for (char c : text) out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? ' ' : c;
}

void append_utc_time(std::string& out, std::chrono::system_clock::time_point t) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch());
  const std::time_t seconds = static_cast<std::time_t>(ms.count() / 1000);
  std::tm tm{};
  ::gmtime_r(&seconds, &tm);
  char buf[40];
  const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  out.append(buf, n);
  std::snprintf(buf, sizeof buf, ".%03dZ", static_cast<int>(ms.count() % 1000));
  out += buf;
}

}  // namespace

const sdk::OptionTable<ErrorLedgerOptions>& ErrorLedgerHandler::options_table() {
  static const sdk::OptionTable<ErrorLedgerOptions> table{
      sdk::bind_option("path", &ErrorLedgerOptions::path,
                       "file the error lines are appended to (created when missing)")
          .required(),
  };
  return table;
}

ErrorLedgerHandler::ErrorLedgerHandler(const ErrorLedgerOptions& options, sdk::HostContext&)
    : ErrorLedgerHandler(options.path) {}

ErrorLedgerHandler::ErrorLedgerHandler(const std::string& path)
    : file_(std::fopen(path.c_str(), "a")) {
  if (!file_)
    throw std::runtime_error("error_ledger: cannot open " + path + ": " + std::strerror(errno));
}

std::string ErrorLedgerHandler::format_line(const sdk::ErrorEvent& error) {
  std::string line;
  append_utc_time(line, error.timestamp);
  line += ' ';
  append_clean(line, error.kind);
  line += ' ';
  append_clean(line, error.target.resource_key());
  line += ' ';
  append_clean(line, error.info.type.empty() ? std::string_view("error") : error.info.type);
  line += ": ";
  append_clean(line, error.info.message);
  return line;
}

void ErrorLedgerHandler::handle(const sdk::EventRef& event) {
  const auto* error = event.as<sdk::ErrorEvent>();
  if (error == nullptr) return;  // subscribed to other events too: not ours to record
  std::string line = format_line(*error);
  line += '\n';
  std::lock_guard lock(mu_);
  if (std::fwrite(line.data(), 1, line.size(), file_.get()) != line.size() ||
      std::fflush(file_.get()) != 0)
    throw std::runtime_error(std::string("error_ledger: write failed: ") + std::strerror(errno));
}

}  // namespace vendor_rules
