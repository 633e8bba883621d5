#include "metrics/minute_batch.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "metrics/symbol_key.hpp"

namespace crosscut::metrics {

std::uint64_t MinuteBatch::total() const {
  std::uint64_t sum = 0;
  for (const auto& item : items) sum += item.total;
  return sum;
}

std::string batch_key(const sdk::Target& target) {
  return sanitize_utf8(target.region, false) + "/" + sanitize_utf8(target.exchange, false) + "/" +
         sanitize_utf8(target.request_type, false);
}

std::string render_batch_json(const MinuteBatch& batch) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  auto string = [&w](std::string_view s) {
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  };
  auto text = [&string](const std::string& s) { string(sanitize_utf8(s, false)); };

  w.StartObject();
  string("region");
  text(batch.target.region);
  string("exchange");
  text(batch.target.exchange);
  string("request_type");
  text(batch.target.request_type);
  string("batch");
  w.StartObject();
  string("range_start_ts_kst");
  w.Int64(batch.items.front().minute_start);
  string("range_end_ts_kst");
  w.Int64(batch.items.back().minute_start + kBucketSizeSec - 1);
  string("bucket_size_sec");
  w.Int64(kBucketSizeSec);
  string("items");
  w.StartArray();
  for (const auto& item : batch.items) {
    w.StartObject();
    string("minute_start_ts_kst");
    w.Int64(item.minute_start);
    string("total");
    w.Uint64(item.total);
    string("details");
    w.StartObject();
    for (const auto& [key, count] : item.details) {
      string(key);  // already valid UTF-8 (key_for_symbol)
      w.Uint64(count);
    }
    w.EndObject();
    w.EndObject();
  }
  w.EndArray();
  string("version");
  w.Int(kBatchVersion);
  w.EndObject();
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace crosscut::metrics
