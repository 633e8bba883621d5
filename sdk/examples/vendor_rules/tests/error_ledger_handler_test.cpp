#include "error_ledger_handler.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

namespace {

namespace sdk = crosscut::sdk;
using vendor_rules::ErrorLedgerHandler;

sdk::ErrorEvent error_event(std::string message) {
  sdk::ErrorEvent e;
  e.kind = "ws_connection";
  e.target = {"upbit", "korea", "ticker"};
  e.info = {"ConnectionError", std::move(message), {}};
  e.timestamp = std::chrono::system_clock::time_point(std::chrono::milliseconds(1736746200123));
  return e;
}

TEST(ErrorLedgerHandler, FormatsOneLinePerError) {
  EXPECT_EQ(ErrorLedgerHandler::format_line(error_event("VND-429\nforged line")),
            "2025-01-13T05:30:00.123Z ws_connection upbit/korea/ticker ConnectionError: "
            "VND-429 forged line");
}

TEST(ErrorLedgerHandler, AppendsErrorEventsAndIgnoresOthers) {
  char dir_template[] = "/tmp/error_ledger_test.XXXXXX";
  ASSERT_NE(::mkdtemp(dir_template), nullptr);
  const std::string path = std::string(dir_template) + "/ledger.log";
  {
    ErrorLedgerHandler handler(path);
    const sdk::ErrorEvent first = error_event("first");
    const sdk::ErrorEvent second = error_event("second");
    const sdk::ProfileSample sample{"op", {}, 0, 0};
    handler.handle({sdk::ErrorEvent::name, &first});
    handler.handle({sdk::ProfileSample::name, &sample});
    handler.handle({sdk::ErrorEvent::name, &second});
  }
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), ErrorLedgerHandler::format_line(error_event("first")) + "\n" +
                            ErrorLedgerHandler::format_line(error_event("second")) + "\n");
  std::remove(path.c_str());
  ::rmdir(dir_template);
}

TEST(ErrorLedgerHandler, RefusesAFileItCannotOpen) {
  EXPECT_THROW(ErrorLedgerHandler("/nonexistent-dir/ledger.log"), std::runtime_error);
}

}  // namespace
