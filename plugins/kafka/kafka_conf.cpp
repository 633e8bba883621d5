#include "kafka_conf.hpp"

#include "kafka_handle.hpp"

namespace crosscut::kafka {
namespace {

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

void log_line(const rd_kafka_t* rk, int level, const char* facility, const char* text) {
  void* opaque = rd_kafka_opaque(rk);
  if (opaque == nullptr) return;
  client_of(opaque).log().log(level_of_syslog(level), text,
                              {{"facility", facility}, {"client", rd_kafka_name(rk)}});
}

}  // namespace

rd_kafka_t* make_client(rd_kafka_type_t type, const std::vector<Property>& properties,
                        const sdk::ConfigView& options, ClientOpaque& client,
                        ErrorCallback on_error, ConfigureCallback configure) {
  ConfHandle conf = make_conf(properties, options);
  rd_kafka_conf_set_opaque(conf.get(), &client);
  rd_kafka_conf_set_log_cb(conf.get(), log_line);
  rd_kafka_conf_set_error_cb(conf.get(), on_error);
  configure(conf.get());
  char error[512];
  rd_kafka_t* rk = rd_kafka_new(type, conf.get(), error, sizeof error);
  if (rk == nullptr)
    options.fail("", std::string("librdkafka refused the configuration: ") + error);
  static_cast<void>(conf.release());  // owned by rk now
  return rk;
}

sdk::Level level_of_syslog(int level) {
  if (level <= 3) return sdk::Level::error;
  if (level == 4) return sdk::Level::warning;
  if (level <= 6) return sdk::Level::info;
  return sdk::Level::debug;
}

}  // namespace crosscut::kafka
