// Event handler `error_ledger`: appends one line per error event it receives to a file,
//   2025-01-13T05:30:00.123Z ws_connection upbit/korea/ticker ConnectionError: VND-429 slow down
// Name it under `handlers:` with `on: [error]`.
#pragma once

#include <cstdio>
#include <memory>
#include <mutex>
#include <string>

#include "crosscut/sdk/sdk.hpp"

namespace vendor_rules {

struct ErrorLedgerOptions {
  std::string path;  // required: the table has no default for it
};

// handle() may run on several bus workers at once: one mutex serialises the appends, and each
// line is flushed so that a reader sees whole lines. Throws std::runtime_error from the
// constructor when the file cannot be opened (the host reports it and does not start).
class ErrorLedgerHandler final : public crosscut::sdk::EventHandler {
 public:
  static const crosscut::sdk::OptionTable<ErrorLedgerOptions>& options_table();

  ErrorLedgerHandler(const ErrorLedgerOptions& options, crosscut::sdk::HostContext& host);
  explicit ErrorLedgerHandler(const std::string& path);

  void handle(const crosscut::sdk::EventRef& event) override;

  // One ledger line (without the newline): control characters become spaces, so an error
  // message can never forge a second line.
  static std::string format_line(const crosscut::sdk::ErrorEvent& error);

 private:
  struct FileCloser {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };

  std::mutex mu_;
  std::unique_ptr<std::FILE, FileCloser> file_;
};

}  // namespace vendor_rules
