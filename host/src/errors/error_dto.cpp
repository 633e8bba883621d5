#include "errors/error_dto.hpp"

#include "core/json_value_writer.hpp"
#include "core/timestamp.hpp"

namespace crosscut {
namespace {

using core::JsonWriter;

// Error reports carry whatever the caller passed: repair bad UTF-8, write NaN as null.
constexpr core::JsonValueStyle kValueStyle{
    .non_finite = core::NonFinite::null, .repair_utf8 = true, .max_depth = 32};

void write_string(JsonWriter& w, std::string_view s) {
  core::write_json_string(w, s, true);
}

void write_or_unknown(JsonWriter& w, std::string_view s) {
  write_string(w, s.empty() ? "unknown" : s);
}

void write_exception(JsonWriter& w, const sdk::ExceptionInfo& e) {
  w.StartObject();
  w.Key("type");
  write_or_unknown(w, e.type);
  w.Key("message");
  write_string(w, e.message);
  if (!e.nested.empty()) {
    w.Key("nested");
    w.StartArray();
    for (const auto& cause : e.nested) write_exception(w, cause);
    w.EndArray();
  }
  w.EndObject();
}

}  // namespace

std::string render_error_dto(const ErrorRecord& r, const ServiceInfo& service,
                             std::chrono::minutes utc_offset, std::string_view error_id,
                             std::uint64_t duplicates) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  w.Key("version");
  w.Int(1);
  w.Key("error_id");
  write_string(w, error_id);
  w.Key("timestamp");
  write_string(w, core::format_timestamp(r.timestamp, utc_offset));
  w.Key("kind");
  write_or_unknown(w, r.kind);
  w.Key("severity");
  write_string(w, sdk::severity_name(r.severity));
  w.Key("exception");
  write_exception(w, r.exception);
  w.Key("target");
  w.StartObject();
  w.Key("exchange");
  write_or_unknown(w, r.target.exchange);
  w.Key("region");
  write_or_unknown(w, r.target.region);
  w.Key("request_type");
  write_or_unknown(w, r.target.request_type);
  w.EndObject();
  w.Key("context");
  if (r.context.is_object()) {
    core::write_json_value(w, r.context, kValueStyle, 0);
  } else {
    w.StartObject();
    if (!r.context.is_null()) {
      w.Key("value");
      core::write_json_value(w, r.context, kValueStyle, 1);
    }
    w.EndObject();
  }
  w.Key("rule");
  if (r.rule.empty())
    w.Null();
  else
    write_string(w, r.rule);
  w.Key("breaker");
  if (r.breaker_state) {
    w.StartObject();
    w.Key("key");
    write_string(w, r.resource_key);
    w.Key("state");
    write_string(w, sdk::state_name(*r.breaker_state));
    w.EndObject();
  } else {
    w.Null();
  }
  w.Key("service");
  w.StartObject();
  w.Key("name");
  write_or_unknown(w, service.name);
  w.Key("host");
  write_or_unknown(w, service.host);
  w.Key("pid");
  w.Int64(service.pid);
  w.EndObject();
  w.Key("correlation_id");
  if (r.correlation_id.empty())
    w.Null();
  else
    write_string(w, r.correlation_id);
  w.Key("duplicates");
  w.Uint64(duplicates);
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace crosscut
