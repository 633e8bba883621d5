#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdio>
#include <iostream>
#include <map>

#include "breaker_trace.hpp"
#include "cli_support.hpp"
#include "commands.hpp"
#include "crosscut/runtime.hpp"
#include "crosscut/sdk/sdk.hpp"

namespace crosscut::cli {
namespace {

struct BreakerArgs {
  std::string config;
  std::vector<std::string> paths;
  std::vector<std::string> keys;
  std::string key;
  std::string open_for;  // `open --for`: a duration; empty: forced open until reset
};

std::unique_ptr<Runtime> open_runtime(const BreakerArgs& args) {
  RuntimeOptions options = runtime_options(args.paths);
  options.quiet = true;
  options.build = BuildScope::breakers;  // no sink opened, no spool locked
  return Runtime::from_file(args.config, options);
}

int status(const BreakerArgs& args) {
  auto rt = open_runtime(args);
  // Without keys: whatever the backend can enumerate (a shared store such as Redis can).
  std::vector<std::string> keys = args.keys.empty() ? rt->breaker_keys() : args.keys;
  if (keys.empty()) {
    std::printf("no breaker keys given and the backend lists none\n");
    return kExitOk;
  }
  std::printf("%-40s %-10s %8s  %-14s %s\n", "KEY", "STATE", "FAILURES", "OPENED_AT_MS",
              "OPEN_UNTIL_MS");
  for (const auto& k : keys) {
    auto r = rt->breaker(k).apply(sdk::BreakerOp::state);
    const std::string opened = r.opened_at_ms ? std::to_string(*r.opened_at_ms) : "-";
    // When its rejections end; a forced breaker has no end.
    const std::string until = r.open_until_ms && r.state == sdk::BreakerState::open
                                  ? std::to_string(*r.open_until_ms)
                                  : std::string(r.forced_open ? "(forced)" : "-");
    std::printf("%-40s %-10s %8u  %-14s %s\n", k.c_str(),
                std::string(sdk::state_name(r.state)).c_str(), r.failures, opened.c_str(),
                until.c_str());
  }
  return kExitOk;
}

int override_state(const BreakerArgs& args, sdk::BreakerOp op) {
  sdk::BreakerOpArgs op_args;
  if (!args.open_for.empty()) {
    std::string problem;
    auto d = sdk::parse_duration(args.open_for, &problem);
    if (!d || d->count() <= 0) {
      print_error("--for: " + (d ? std::string("must be > 0") : problem) + " (e.g. 30s, 5m)");
      return kExitUsage;
    }
    op = sdk::BreakerOp::open_until;
    op_args.for_ms = std::max<std::int64_t>(
        1, std::chrono::duration_cast<std::chrono::milliseconds>(*d).count());
  }
  auto rt = open_runtime(args);
  auto r = rt->breaker(args.key).apply(op, std::nullopt, op_args);
  std::printf("%s: %s\n", args.key.c_str(), std::string(sdk::state_name(r.state)).c_str());
  return kExitOk;
}

// Reads NDJSON ops (see breaker_trace.hpp) and prints one line per op.
int simulate(const BreakerArgs& args) {
  auto rt = open_runtime(args);
  std::map<std::string, std::int64_t> last_time;
  std::string line;
  std::uint64_t line_no = 0;
  auto bad = [&](const std::string& why) -> int {
    print_error("stdin:" + std::to_string(line_no) + ": " + why);
    return kExitUsage;
  };
  while (std::getline(std::cin, line)) {
    ++line_no;
    std::string problem;
    auto parsed = parse_trace_line(line, problem);
    if (!parsed) {
      if (problem.empty()) continue;  // a blank line
      return bad(problem);
    }
    const auto op = parsed->op;
    const std::string& key = parsed->key ? *parsed->key : args.key;
    if (key.empty()) return bad("no key (give --key or a \"key\" field)");
    const std::int64_t now = parsed->t_ms;
    if (auto it = last_time.find(key); it != last_time.end() && now < it->second)
      return bad("time goes backwards for key '" + key + "' (" + std::to_string(now) + " < " +
                 std::to_string(it->second) + ")");
    last_time[key] = now;

    sdk::BreakerOpArgs op_args = parsed->args;
    op_args.instance = parsed->instance;
    Breaker breaker = rt->breaker(key);
    auto r = breaker.apply(op, now, op_args);
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    w.StartObject();
    w.Key("t_ms");
    w.Int64(now);
    w.Key("op");
    auto name = sdk::op_name(op);
    w.String(name.data(), static_cast<rapidjson::SizeType>(name.size()));
    if (parsed->key) {
      w.Key("key");
      w.String(key.c_str(), static_cast<rapidjson::SizeType>(key.size()));
    }
    if (op == sdk::BreakerOp::acquire) {
      w.Key("allowed");
      w.Bool(r.allowed);
    }
    w.Key("state");
    auto st = sdk::state_name(r.state);
    w.String(st.data(), static_cast<rapidjson::SizeType>(st.size()));
    w.Key("transition");
    if (r.transition) {
      w.StartObject();
      w.Key("from");
      auto f = sdk::state_name(r.transition->from);
      w.String(f.data(), static_cast<rapidjson::SizeType>(f.size()));
      w.Key("to");
      auto to = sdk::state_name(r.transition->to);
      w.String(to.data(), static_cast<rapidjson::SizeType>(to.size()));
      w.Key("reason");
      auto why = sdk::reason_name(r.transition->reason);
      w.String(why.data(), static_cast<rapidjson::SizeType>(why.size()));
      w.EndObject();
    } else {
      w.Null();
    }
    // Rate mode: an acquire counts nothing, and a store's local view answers it without the
    // buckets, so its line carries no counts (every other line has the store's exact ones).
    const bool rate = breaker.policy().mode == sdk::BreakerMode::rate;
    if (!rate || op != sdk::BreakerOp::acquire) {
      w.Key("failures");
      w.Uint(r.failures);
    }
    if (rate && op != sdk::BreakerOp::acquire) {
      w.Key("calls");
      w.Uint(r.calls);
      w.Key("slow_calls");
      w.Uint(r.slow_calls);
    }
    // When its rejections end: shows backoff, jitter and open_until.
    if (r.open_until_ms && r.state == sdk::BreakerState::open) {
      w.Key("open_until_ms");
      w.Int64(*r.open_until_ms);
    }
    w.EndObject();
    std::printf("%s\n", buf.GetString());
  }
  std::fflush(stdout);
  return kExitOk;
}

}  // namespace

void add_breaker_command(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("breaker", "Inspect, override and simulate circuit breakers");
  cmd->require_subcommand(1);
  auto add = [&](const char* name, const char* help, auto body, bool one_key, bool many_keys) {
    auto args = std::make_shared<BreakerArgs>();
    auto* sub = cmd->add_subcommand(name, help);
    sub->add_option("-c,--config", args->config, "Configuration file")->required();
    sub->add_option("--path", args->paths, "Also search this folder for plugins (repeatable)");
    if (one_key)
      sub->add_option("KEY", args->key, "Resource key, e.g. upbit/korea/ticker")->required();
    if (many_keys) sub->add_option("KEY", args->keys, "Resource keys");
    sub->callback(
        [args, body, &exit_code] { exit_code = run_guarded([&] { return body(*args); }); });
    return std::make_pair(sub, args);
  };
  add("status", "State, failures in the window and opened_at of breakers", status, false, true);
  add(
      "reset", "Close a breaker and clear its failures",
      [](const BreakerArgs& a) { return override_state(a, sdk::BreakerOp::reset); }, true, false);
  auto [open, open_args] = add(
      "open", "Force a breaker open until it is reset, or for a while (--for)",
      [](const BreakerArgs& a) { return override_state(a, sdk::BreakerOp::force_open); }, true,
      false);
  open->add_option("--for", open_args->open_for,
                   "Open for this long (e.g. 30s) for every instance, then as after a timeout");
  auto [sim, sim_args] =
      add("simulate", "Apply NDJSON ops from stdin with virtual times; print one line per op",
          simulate, false, false);
  sim->add_option("--key", sim_args->key, "Resource key (a \"key\" field in a line overrides it)");
}

}  // namespace crosscut::cli
