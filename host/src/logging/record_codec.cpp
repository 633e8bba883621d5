#include "logging/record_codec.hpp"

#include <algorithm>
#include <cstring>
#include <type_traits>

namespace crosscut::logging {
namespace {

enum Tag : std::uint8_t { t_null, t_false, t_true, t_int, t_double, t_string, t_array, t_object };

template <class T>
void put(std::string& out, T v) {
  static_assert(std::is_trivially_copyable_v<T>);
  char bytes[sizeof(T)];
  std::memcpy(bytes, &v, sizeof(T));
  out.append(bytes, sizeof(T));
}

void put_str(std::string& out, std::string_view s) {
  put<std::uint32_t>(out, static_cast<std::uint32_t>(s.size()));
  out.append(s);
}

void put_value(std::string& out, const sdk::Value& v) {
  if (v.is_null())
    put<std::uint8_t>(out, t_null);
  else if (v.is_bool())
    put<std::uint8_t>(out, v.as_bool() ? t_true : t_false);
  else if (v.is_int()) {
    put<std::uint8_t>(out, t_int);
    put<std::int64_t>(out, v.as_int());
  } else if (v.is_double()) {
    put<std::uint8_t>(out, t_double);
    put<double>(out, v.as_double());
  } else if (v.is_string()) {
    put<std::uint8_t>(out, t_string);
    put_str(out, v.as_string());
  } else if (v.is_array()) {
    put<std::uint8_t>(out, t_array);
    put<std::uint32_t>(out, static_cast<std::uint32_t>(v.as_array().size()));
    for (const auto& item : v.as_array()) put_value(out, item);
  } else {
    put<std::uint8_t>(out, t_object);
    put<std::uint32_t>(out, static_cast<std::uint32_t>(v.as_object().size()));
    for (const auto& [k, item] : v.as_object()) {
      put_str(out, k);
      put_value(out, item);
    }
  }
}

// Scratch space for strings that must be copied to be repaired or masked.
struct Scratch {
  std::string text;
  sdk::Value value;
};

void put_text(std::string& out, std::string_view s, const RecordScrubber* scrubber,
              Scratch& scratch) {
  put_str(out, scrubber ? scrubber->text(s, scratch.text) : s);
}

void put_key(std::string& out, std::string_view s, const RecordScrubber* scrubber,
             Scratch& scratch) {
  put_str(out, scrubber ? scrubber->key(s, scratch.text) : s);
}

void put_scrubbed(std::string& out, const sdk::Value& v, const RecordScrubber* scrubber,
                  Scratch& scratch) {
  put_value(out, scrubber ? scrubber->value(v, scratch.value) : v);
}

void put_masked(std::string& out) {
  put<std::uint8_t>(out, t_string);
  put_str(out, "[MASKED]");
}

void put_field(std::string& out, const sdk::FieldValue& f, const RecordScrubber* scrubber,
               Scratch& scratch) {
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::monostate>)
          put<std::uint8_t>(out, t_null);
        else if constexpr (std::is_same_v<T, bool>)
          put<std::uint8_t>(out, x ? t_true : t_false);
        else if constexpr (std::is_same_v<T, std::int64_t>) {
          put<std::uint8_t>(out, t_int);
          put<std::int64_t>(out, x);
        } else if constexpr (std::is_same_v<T, double>) {
          put<std::uint8_t>(out, t_double);
          put<double>(out, x);
        } else if constexpr (std::is_same_v<T, std::string_view>) {
          put<std::uint8_t>(out, t_string);
          put_text(out, x, scrubber, scratch);
        } else {
          if (x)
            put_scrubbed(out, *x, scrubber, scratch);
          else
            put<std::uint8_t>(out, t_null);
        }
      },
      f.get());
}

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  template <class T>
  bool get(T& v) {
    if (in_.size() - pos_ < sizeof(T)) return false;
    std::memcpy(&v, in_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return true;
  }
  bool get_str(std::string_view& s) {
    std::uint32_t n = 0;
    if (!get(n) || in_.size() - pos_ < n) return false;
    s = in_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  bool get_value(sdk::Value& v, int depth = 0) {
    std::uint8_t tag = 0;
    if (depth > 256 || !get(tag)) return false;
    switch (tag) {
      case t_null:
        v = sdk::Value();
        return true;
      case t_false:
        v = sdk::Value(false);
        return true;
      case t_true:
        v = sdk::Value(true);
        return true;
      case t_int: {
        std::int64_t i = 0;
        if (!get(i)) return false;
        v = sdk::Value(static_cast<long long>(i));
        return true;
      }
      case t_double: {
        double d = 0;
        if (!get(d)) return false;
        v = sdk::Value(d);
        return true;
      }
      case t_string: {
        std::string_view s;
        if (!get_str(s)) return false;
        v = sdk::Value(std::string(s));
        return true;
      }
      case t_array: {
        std::uint32_t n = 0;
        if (!get(n)) return false;
        sdk::Value::Array a;
        a.reserve(std::min<std::uint32_t>(n, 1024));
        for (std::uint32_t i = 0; i < n; ++i) {
          a.emplace_back();
          if (!get_value(a.back(), depth + 1)) return false;
        }
        v = sdk::Value(std::move(a));
        return true;
      }
      case t_object: {
        sdk::Value::Object o;
        if (!get_members(o, depth + 1)) return false;
        v = sdk::Value(std::move(o));
        return true;
      }
    }
    return false;
  }
  bool get_members(sdk::Value::Object& o, int depth, bool skip_existing = false) {
    std::uint32_t n = 0;
    if (!get(n)) return false;
    o.reserve(o.size() + std::min<std::uint32_t>(n, 1024));
    for (std::uint32_t i = 0; i < n; ++i) {
      std::string_view key;
      sdk::Value value;
      if (!get_str(key) || !get_value(value, depth)) return false;
      if (skip_existing) {
        bool used = false;
        for (const auto& [k, unused] : o) used = used || k == key;
        if (used) continue;
      }
      o.emplace_back(std::string(key), std::move(value));
    }
    return true;
  }
  bool done() const { return pos_ == in_.size(); }

 private:
  std::string_view in_;
  std::size_t pos_ = 0;
};

}  // namespace

void encode_record(std::string& out, const RecordHeader& h, std::string_view message,
                   sdk::Fields fields, const sdk::Value* exception, std::uint64_t suppressed,
                   const sdk::Value::Object* context, std::string_view json,
                   const RecordScrubber* scrubber) {
  thread_local Scratch scratch;
  auto sensitive = [&](std::string_view key) { return scrubber && scrubber->sensitive(key); };
  put<std::uint8_t>(out, static_cast<std::uint8_t>(h.kind));
  put<const void*>(out, h.logger);
  put<std::int64_t>(out, h.timestamp_ns);
  put<std::uint8_t>(out, static_cast<std::uint8_t>(h.level));
  put<std::uint64_t>(out, h.aux);
  put_text(out, message, scrubber, scratch);
  std::uint32_t n =
      static_cast<std::uint32_t>(fields.size()) + (exception ? 1 : 0) + (suppressed ? 1 : 0);
  put<std::uint32_t>(out, n);
  for (const auto& f : fields) {
    put_key(out, f.key, scrubber, scratch);
    if (sensitive(f.key))
      put_masked(out);
    else
      put_field(out, f.value, scrubber, scratch);
  }
  if (exception) {
    put_str(out, "exception");
    put_scrubbed(out, *exception, scrubber, scratch);
  }
  if (suppressed) {
    put_str(out, "suppressed");
    put<std::uint8_t>(out, t_int);
    put<std::int64_t>(out, static_cast<std::int64_t>(suppressed));
  }
  put<std::uint32_t>(out, context ? static_cast<std::uint32_t>(context->size()) : 0);
  if (context) {
    for (const auto& [k, v] : *context) {
      put_key(out, k, scrubber, scratch);
      if (sensitive(k))
        put_masked(out);
      else
        put_scrubbed(out, v, scrubber, scratch);
    }
  }
  put_str(out, json);
}

bool decode_record(std::string_view in, DecodedRecord& out) {
  Reader r(in);
  std::uint8_t kind = 0, level = 0;
  std::string_view message;
  if (!r.get(kind) || !r.get(out.header.logger) || !r.get(out.header.timestamp_ns) ||
      !r.get(level) || !r.get(out.header.aux) || !r.get_str(message))
    return false;
  if (kind > static_cast<std::uint8_t>(RecordKind::reopen) ||
      level > static_cast<std::uint8_t>(sdk::Level::off))
    return false;
  out.header.kind = static_cast<RecordKind>(kind);
  out.header.level = static_cast<sdk::Level>(level);
  out.message.assign(message);
  // Reuse the previous record's member vector: one allocation less per record.
  sdk::Value::Object extra;
  if (out.extra.is_object()) extra = std::move(out.extra.as_object());
  extra.clear();
  const bool ok = r.get_members(extra, 1) && r.get_members(extra, 1, true);
  out.extra = sdk::Value(std::move(extra));
  std::string_view json;
  if (!ok || !r.get_str(json)) return false;
  out.json.assign(json);
  return r.done();
}

}  // namespace crosscut::logging
