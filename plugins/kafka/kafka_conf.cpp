#include "kafka_conf.hpp"

#include <algorithm>
#include <chrono>

namespace crosscut::kafka {

ConfHandle make_conf(const std::vector<Property>& properties, const sdk::ConfigView& options) {
  ConfHandle conf(rd_kafka_conf_new());
  char error[512];
  for (const auto& p : properties) {
    if (rd_kafka_conf_set(conf.get(), p.name.c_str(), p.value.c_str(), error, sizeof error) !=
        RD_KAFKA_CONF_OK)
      options.fail(p.option,
                   std::string("librdkafka refused ") + p.name + "=" + p.value + ": " + error);
  }
  const sdk::ConfigView extra = options.child("properties");
  for (const auto& [name, value] : options.get_string_map("properties")) {
    if (rd_kafka_conf_set(conf.get(), name.c_str(), value.c_str(), error, sizeof error) !=
        RD_KAFKA_CONF_OK)
      extra.fail(name, error);  // the value may be a secret: librdkafka's message omits it
  }
  return conf;
}

namespace {

void log_line(const rd_kafka_t* rk, int level, const char* facility, const char* text) {
  void* opaque = rd_kafka_opaque(rk);
  if (opaque == nullptr) return;
  client_of(opaque).log().log(level_of_syslog(level), text,
                              {{"facility", facility}, {"client", rd_kafka_name(rk)}});
}

}  // namespace

void set_client_opaque(rd_kafka_conf_t* conf, ClientOpaque& client) {
  rd_kafka_conf_set_opaque(conf, &client);
  rd_kafka_conf_set_log_cb(conf, log_line);
}

sdk::Level level_of_syslog(int level) {
  if (level <= 3) return sdk::Level::error;
  if (level == 4) return sdk::Level::warning;
  if (level <= 6) return sdk::Level::info;
  return sdk::Level::debug;
}

std::string milliseconds(const sdk::ConfigView& options, std::string_view key,
                         std::chrono::milliseconds fallback) {
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(options.get_duration(key, fallback));
  return std::to_string(std::max<long long>(ms.count(), 0));
}

}  // namespace crosscut::kafka
