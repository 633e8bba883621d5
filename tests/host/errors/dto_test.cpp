// The published DTO, field by field, parsed back with RapidJSON.
#include <gtest/gtest.h>

#include <cctype>

#include "core/exception_description.hpp"
#include "crosscut/log_context.hpp"
#include "errors/error_dto.hpp"
#include "errors/error_id.hpp"
#include "errors_test_support.hpp"

namespace crosscut {
namespace {

using errors_test::member_names;
using errors_test::MemorySink;
using errors_test::parse;
using errors_test::upbit;

ErrorsOptions dto_options(ErrorsOptions options) {
  if (!options.utc_offset) options.utc_offset = std::chrono::hours(9);
  options.sink = "kafka-main";
  return options;
}

struct Fixture : errors_test::DispatcherHarness {
  explicit Fixture(ErrorsOptions options = {}, BreakerRecorder breaker = {})
      : DispatcherHarness({.breaker = std::move(breaker),
                           .options = dto_options(std::move(options)),
                           .service = ServiceInfo{"collector-upbit", "host-1", 4242}},
                          1'736'746'200'123) {}  // 2025-01-13T05:30:00.123Z
  rapidjson::Document only_dto() {
    auto records = sink.records();
    EXPECT_EQ(records.size(), 1u);
    return parse(records.at(0).payload);
  }
};

bool is_uuid_v4(const std::string& s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') return false;
    } else if (!std::isxdigit(static_cast<unsigned char>(s[i])) || std::isupper(s[i])) {
      return false;
    }
  }
  return s[14] == '4' && std::string("89ab").find(s[19]) != std::string::npos;
}

TEST(ErrorDto, HasEveryFieldInTheDocumentedOrder) {
  Fixture f({}, [](const std::string&) { return sdk::BreakerState::open; });
  ContextScope scope(sdk::Value::Object{{"correlation_id", "corr-77"}});
  f.dispatcher->dispatch(
      crosscut_test::ConnectionError("connection refused"), "ws_connection", upbit(),
      sdk::Value::object({{"url", "wss://api.upbit.com/websocket/v1"}, {"attempt", 3}}));
  const auto records = f.sink.records();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].topic, "ws.error");
  EXPECT_EQ(records[0].key, "upbit/korea/ticker");
  EXPECT_EQ(records[0].origin, sdk::RecordOrigin::error_report);

  const auto d = parse(records[0].payload);
  EXPECT_EQ(member_names(d),
            (std::vector<std::string>{"version", "error_id", "timestamp", "kind", "severity",
                                      "exception", "target", "context", "rule", "breaker",
                                      "service", "correlation_id", "duplicates"}));
  EXPECT_EQ(d["version"].GetInt(), 1);
  EXPECT_TRUE(is_uuid_v4(d["error_id"].GetString())) << d["error_id"].GetString();
  EXPECT_STREQ(d["timestamp"].GetString(), "2025-01-13T14:30:00.123000+09:00");
  EXPECT_STREQ(d["kind"].GetString(), "ws_connection");
  EXPECT_STREQ(d["severity"].GetString(), "error");
  EXPECT_EQ(member_names(d["exception"]), (std::vector<std::string>{"type", "message"}));
  EXPECT_STREQ(d["exception"]["type"].GetString(), "crosscut_test::ConnectionError");
  EXPECT_STREQ(d["exception"]["message"].GetString(), "connection refused");
  EXPECT_EQ(member_names(d["target"]),
            (std::vector<std::string>{"exchange", "region", "request_type"}));
  EXPECT_STREQ(d["target"]["exchange"].GetString(), "upbit");
  EXPECT_STREQ(d["target"]["region"].GetString(), "korea");
  EXPECT_STREQ(d["target"]["request_type"].GetString(), "ticker");
  EXPECT_EQ(member_names(d["context"]), (std::vector<std::string>{"url", "attempt"}));
  EXPECT_STREQ(d["context"]["url"].GetString(), "wss://api.upbit.com/websocket/v1");
  EXPECT_EQ(d["context"]["attempt"].GetInt(), 3);
  EXPECT_TRUE(d["rule"].IsNull());
  EXPECT_EQ(member_names(d["breaker"]), (std::vector<std::string>{"key", "state"}));
  EXPECT_STREQ(d["breaker"]["key"].GetString(), "upbit/korea/ticker");
  EXPECT_STREQ(d["breaker"]["state"].GetString(), "OPEN");
  EXPECT_EQ(member_names(d["service"]), (std::vector<std::string>{"name", "host", "pid"}));
  EXPECT_STREQ(d["service"]["name"].GetString(), "collector-upbit");
  EXPECT_STREQ(d["service"]["host"].GetString(), "host-1");
  EXPECT_EQ(d["service"]["pid"].GetInt(), 4242);
  EXPECT_STREQ(d["correlation_id"].GetString(), "corr-77");
  EXPECT_EQ(d["duplicates"].GetInt(), 0);
}

TEST(ErrorDto, ErrorIdsDiffer) {
  Fixture f;
  for (int i = 0; i < 3; ++i) f.dispatcher->dispatch(std::runtime_error("x"), "unknown", upbit());
  const auto records = f.sink.records();
  ASSERT_EQ(records.size(), 3u);
  std::set<std::string> ids;
  for (const auto& r : records) ids.insert(parse(r.payload)["error_id"].GetString());
  EXPECT_EQ(ids.size(), 3u);
}

TEST(ErrorDto, MissingFieldsYieldUnknownValues) {
  Fixture f;
  sdk::ErrorEvent event;  // no exception, no info, no kind, no target, no context
  event.kind = "";
  f.dispatcher->dispatch(std::move(event));
  const auto d = f.only_dto();
  EXPECT_STREQ(d["kind"].GetString(), "unknown");
  EXPECT_STREQ(d["exception"]["type"].GetString(), "unknown");
  EXPECT_STREQ(d["exception"]["message"].GetString(), "");
  EXPECT_STREQ(d["target"]["exchange"].GetString(), "unknown");
  EXPECT_STREQ(d["target"]["region"].GetString(), "unknown");
  EXPECT_STREQ(d["target"]["request_type"].GetString(), "unknown");
  EXPECT_TRUE(d["context"].IsObject());
  EXPECT_EQ(d["context"].MemberCount(), 0u);
  EXPECT_TRUE(d["breaker"].IsNull());
  EXPECT_TRUE(d["correlation_id"].IsNull());
  EXPECT_STREQ(d["timestamp"].GetString(), "2025-01-13T14:30:00.123000+09:00");
  EXPECT_EQ(f.sink.records()[0].key, "unknown/unknown/unknown");
}

TEST(ErrorDto, EventFieldsWinOverDefaults) {
  Fixture f;
  ContextScope scope(sdk::Value::Object{{"correlation_id", "from-scope"}});
  sdk::ErrorEvent event;
  event.info = {"ConnectionError", "refused", {}};
  event.kind = "ws_connection";
  event.target = upbit();
  event.context = sdk::Value("not an object");
  event.correlation_id = "from-event";
  event.timestamp =
      std::chrono::system_clock::time_point(std::chrono::microseconds(1'737'619'200'654'321));
  f.dispatcher->dispatch(std::move(event));
  const auto d = f.only_dto();
  EXPECT_STREQ(d["exception"]["type"].GetString(), "ConnectionError");
  EXPECT_STREQ(d["correlation_id"].GetString(), "from-event");
  EXPECT_STREQ(d["timestamp"].GetString(), "2025-01-23T17:00:00.654321+09:00");
  EXPECT_STREQ(d["context"]["value"].GetString(), "not an object");
}

TEST(ErrorDto, NestedExceptionsAreListedOutermostFirst) {
  Fixture f;
  try {
    try {
      try {
        throw crosscut_test::ConnectionError("socket closed");
      } catch (...) {
        std::throw_with_nested(std::runtime_error("subscribe failed"));
      }
    } catch (...) {
      std::throw_with_nested(std::logic_error("collector stopped"));
    }
  } catch (...) {
    f.dispatcher->dispatch(std::current_exception(), "ws_subscription", upbit());
  }
  const auto d = f.only_dto();
  EXPECT_STREQ(d["exception"]["type"].GetString(), "std::logic_error");
  EXPECT_STREQ(d["exception"]["message"].GetString(), "collector stopped");
  const auto& nested = d["exception"]["nested"];
  ASSERT_TRUE(nested.IsArray());
  ASSERT_EQ(nested.Size(), 2u);
  EXPECT_STREQ(nested[0]["type"].GetString(), "std::runtime_error");
  EXPECT_STREQ(nested[0]["message"].GetString(), "subscribe failed");
  EXPECT_STREQ(nested[1]["type"].GetString(), "crosscut_test::ConnectionError");
  EXPECT_STREQ(nested[1]["message"].GetString(), "socket closed");
}

TEST(ErrorDto, NonStandardExceptionsAreNamed) {
  using core::describe_exception;
  EXPECT_EQ(describe_exception(std::make_exception_ptr(42)).type, "int");
  const auto text = describe_exception(std::make_exception_ptr<const char*>("boom"));
  EXPECT_EQ(text.type, "const char*");
  EXPECT_EQ(text.message, "boom");
  EXPECT_EQ(describe_exception(std::exception_ptr()).type, "unknown");
}

TEST(ErrorDto, HostileStringsStayValidJson) {
  Fixture f;
  const std::string message = "quote\" backslash\\ newline\n bad\xff\xfe utf8 \xe2\x82 end";
  const std::string with_nul = "a" + std::string(1, '\0') + "b";
  f.dispatcher->dispatch(std::runtime_error(message), "unknown", upbit(),
                         sdk::Value::object({{"k\x80", std::nan("")}, {"nul", with_nul}}));
  const auto records = f.sink.records();
  ASSERT_EQ(records.size(), 1u);
  rapidjson::Document d;
  d.Parse<rapidjson::kParseValidateEncodingFlag>(records[0].payload.c_str(),
                                                 records[0].payload.size());
  ASSERT_FALSE(d.HasParseError()) << records[0].payload;
  const std::string got = d["exception"]["message"].GetString();
  EXPECT_EQ(got,
            "quote\" backslash\\ newline\n bad\xEF\xBF\xBD\xEF\xBF\xBD utf8 "
            "\xEF\xBF\xBD end");  // one U+FFFD per bad sequence: \xe2\x82 is one
  EXPECT_TRUE(d["context"]["k\xEF\xBF\xBD"].IsNull());
  EXPECT_EQ(std::string(d["context"]["nul"].GetString(), d["context"]["nul"].GetStringLength()),
            with_nul);
}

TEST(ErrorDto, UuidIsVersion4) {
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(is_uuid_v4(make_uuid_v4()));
}

}  // namespace
}  // namespace crosscut
