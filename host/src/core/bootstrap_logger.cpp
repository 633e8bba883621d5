#include "core/bootstrap_logger.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdio>

namespace crosscut::core {

void BootstrapLogger::log(sdk::Level level, std::string_view message, sdk::Fields fields) noexcept {
  try {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    w.StartObject();
    w.Key("level");
    auto ln = sdk::level_name(level);
    w.String(ln.data(), static_cast<rapidjson::SizeType>(ln.size()));
    w.Key("logger");
    w.String(name_.c_str(), static_cast<rapidjson::SizeType>(name_.size()));
    w.Key("message");
    w.String(message.data(), static_cast<rapidjson::SizeType>(message.size()));
    w.Key("extra");
    w.StartObject();
    for (const auto& f : fields) {
      w.Key(f.key.data(), static_cast<rapidjson::SizeType>(f.key.size()));
      std::visit(
          [&](const auto& v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::monostate>)
              w.Null();
            else if constexpr (std::is_same_v<T, bool>)
              w.Bool(v);
            else if constexpr (std::is_same_v<T, std::int64_t>)
              w.Int64(v);
            else if constexpr (std::is_same_v<T, double>)
              w.Double(v);
            else if constexpr (std::is_same_v<T, std::string_view>)
              w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
            else
              w.String("<value>");
          },
          f.value.get());
    }
    w.EndObject();
    w.EndObject();
    std::fprintf(stderr, "%s\n", buf.GetString());
  } catch (...) {
    std::fputs("crosscut: a log record could not be written\n", stderr);
  }
}

}  // namespace crosscut::core
