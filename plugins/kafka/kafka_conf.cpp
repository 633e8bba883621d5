#include "kafka_conf.hpp"

#include "kafka_handle.hpp"

namespace crosscut::kafka {
namespace {

bool names_brokers(std::string_view property) {
  return property == "bootstrap.servers" || property == "metadata.broker.list";
}

// `without_brokers`: the broker list is left out, so that a client made from it contacts no one.
ConfHandle make_conf(const std::vector<Property>& properties, const sdk::ConfigView& options,
                     bool without_brokers = false) {
  ConfHandle conf(rd_kafka_conf_new());
  char error[512];
  for (const auto& p : properties) {
    if (without_brokers && names_brokers(p.name)) continue;
    if (rd_kafka_conf_set(conf.get(), p.name.c_str(), p.value.c_str(), error, sizeof error) !=
        RD_KAFKA_CONF_OK)
      options.fail(p.option,
                   std::string("librdkafka refused ") + p.name + "=" + p.value + ": " + error);
  }
  const sdk::ConfigView extra = options.child("properties");
  for (const auto& [name, value] : options.get_string_map("properties")) {
    if (without_brokers && names_brokers(name)) continue;
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

void check_client(rd_kafka_type_t type, const std::vector<Property>& properties,
                  const sdk::ConfigView& options) {
  ConfHandle conf = make_conf(properties, options, true);
  rd_kafka_conf_set_log_cb(conf.get(), nullptr);  // a client without brokers would say so
  char error[512];
  rd_kafka_t* rk = rd_kafka_new(type, conf.get(), error, sizeof error);
  if (rk == nullptr)
    options.fail("", std::string("librdkafka refused the configuration: ") + error);
  static_cast<void>(conf.release());  // owned by rk now
  rd_kafka_destroy(rk);
}

sdk::ServerCheck probe_brokers(rd_kafka_type_t type, const std::vector<Property>& properties,
                               const sdk::ConfigView& options, const std::string& brokers,
                               std::chrono::milliseconds timeout) {
  sdk::ServerCheck check{.server = brokers, .reachable = false, .detail = {}};
  ConfHandle conf = make_conf(properties, options);
  rd_kafka_conf_set_log_cb(conf.get(), nullptr);  // the result line says what went wrong
  char error[512];
  rd_kafka_t* rk = rd_kafka_new(type, conf.get(), error, sizeof error);
  if (rk == nullptr) {
    check.detail = std::string("librdkafka refused the configuration: ") + error;
    return check;
  }
  static_cast<void>(conf.release());
  const auto started = std::chrono::steady_clock::now();
  const rd_kafka_metadata_t* metadata = nullptr;
  const rd_kafka_resp_err_t err =
      rd_kafka_metadata(rk, 0, nullptr, &metadata, static_cast<int>(timeout.count()));
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started);
    check.reachable = true;
    check.detail = "cluster metadata (" + std::to_string(metadata->broker_cnt) + " brokers) in " +
                   std::to_string(ms.count()) + " ms";
    rd_kafka_metadata_destroy(metadata);
  } else {
    check.detail = rd_kafka_err2str(err);
  }
  rd_kafka_destroy(rk);
  return check;
}

sdk::Level level_of_syslog(int level) {
  if (level <= 3) return sdk::Level::error;
  if (level == 4) return sdk::Level::warning;
  if (level <= 6) return sdk::Level::info;
  return sdk::Level::debug;
}

}  // namespace crosscut::kafka
