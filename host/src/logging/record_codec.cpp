#include "logging/record_codec.hpp"

#include <algorithm>
#include <cstring>
#include <type_traits>
#include <variant>

namespace crosscut::logging {
namespace {

enum Tag : std::uint8_t { t_null, t_false, t_true, t_int, t_double, t_string, t_array, t_object };

// The two passes over a record share one description of its layout: SizeOut adds up what
// ByteOut writes.
struct SizeOut {
  std::size_t n = 0;
  bool too_long = false;
  template <class T>
  void put(T) noexcept {
    n += sizeof(T);
  }
  void bytes(const void*, std::size_t k) noexcept { n += k; }
};

struct ByteOut {
  std::byte* p;
  template <class T>
  void put(T v) noexcept {
    static_assert(std::is_trivially_copyable_v<T>);
    std::memcpy(p, &v, sizeof(T));
    p += sizeof(T);
  }
  // Keys and short values are a few bytes: fixed-size copies (two overlapping ones) are
  // plain moves, where a call to memcpy would cost more than the copy.
  void bytes(const void* from, std::size_t k) noexcept {
    const auto* s = static_cast<const std::byte*>(from);
    if (k >= 8 && k <= 16) {
      std::memcpy(p, s, 8);
      std::memcpy(p + k - 8, s + k - 8, 8);
    } else if (k >= 4 && k < 8) {
      std::memcpy(p, s, 4);
      std::memcpy(p + k - 4, s + k - 4, 4);
    } else if (k > 16) {
      std::memcpy(p, s, k);
    } else {
      for (std::size_t i = 0; i < k; ++i) p[i] = s[i];
    }
    p += k;
  }
};

template <class Out>
void put_str(Out& out, std::string_view s) noexcept {
  if constexpr (std::is_same_v<Out, SizeOut>)
    if (s.size() > UINT32_MAX) out.too_long = true;
  out.template put<std::uint32_t>(static_cast<std::uint32_t>(s.size()));
  out.bytes(s.data(), s.size());
}

template <class Out>
void put_count(Out& out, std::size_t n) noexcept {
  if constexpr (std::is_same_v<Out, SizeOut>)
    if (n > UINT32_MAX) out.too_long = true;
  out.template put<std::uint32_t>(static_cast<std::uint32_t>(n));
}

template <class Out>
void put_value(Out& out, const sdk::Value& v) noexcept {
  if (v.is_null()) {
    out.template put<std::uint8_t>(t_null);
  } else if (v.is_bool()) {
    out.template put<std::uint8_t>(v.as_bool() ? t_true : t_false);
  } else if (v.is_int()) {
    out.template put<std::uint8_t>(t_int);
    out.template put<std::int64_t>(v.as_int());
  } else if (v.is_double()) {
    out.template put<std::uint8_t>(t_double);
    out.template put<double>(v.as_double());
  } else if (v.is_string()) {
    out.template put<std::uint8_t>(t_string);
    put_str(out, v.as_string());
  } else if (v.is_array()) {
    out.template put<std::uint8_t>(t_array);
    put_count(out, v.as_array().size());
    for (const auto& item : v.as_array()) put_value(out, item);
  } else {
    out.template put<std::uint8_t>(t_object);
    put_count(out, v.as_object().size());
    for (const auto& [k, item] : v.as_object()) {
      put_str(out, k);
      put_value(out, item);
    }
  }
}

template <class Out>
void put_field(Out& out, const sdk::FieldValue& f) noexcept {
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, const sdk::Value*>) {
          if (x)
            put_value(out, *x);
          else
            out.template put<std::uint8_t>(t_null);
        } else if constexpr (std::is_same_v<T, std::monostate>) {
          out.template put<std::uint8_t>(t_null);
        } else if constexpr (std::is_same_v<T, bool>) {
          out.template put<std::uint8_t>(x ? t_true : t_false);
        } else if constexpr (std::is_same_v<T, std::int64_t>) {
          out.template put<std::uint8_t>(t_int);
          out.template put<std::int64_t>(x);
        } else if constexpr (std::is_same_v<T, double>) {
          out.template put<std::uint8_t>(t_double);
          out.template put<double>(x);
        } else {
          static_assert(std::is_same_v<T, std::string_view>);
          out.template put<std::uint8_t>(t_string);
          put_str(out, x);
        }
      },
      f.get());
}

template <class Out>
void put_payload(Out& out, std::string_view message, sdk::Fields fields,
                 const sdk::Value* exception, const sdk::Value::Object* context) noexcept {
  put_str(out, message);
  put_count(out, fields.size());
  for (const auto& f : fields) {
    put_str(out, f.key);
    put_field(out, f.value);
  }
  out.template put<std::uint8_t>(exception ? 1 : 0);
  if (exception) put_value(out, *exception);
  put_count(out, context ? context->size() : 0);
  if (context) {
    for (const auto& [k, v] : *context) {
      put_str(out, k);
      put_value(out, v);
    }
  }
}

class Reader {
 public:
  explicit Reader(std::span<const std::byte> in) : in_(in) {}
  template <class T>
  bool get(T& v) noexcept {
    if (in_.size() - pos_ < sizeof(T)) return false;
    std::memcpy(&v, in_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return true;
  }
  bool get_str(std::string_view& s) noexcept {
    std::uint32_t n = 0;
    if (!get(n) || in_.size() - pos_ < n) return false;
    s = std::string_view(reinterpret_cast<const char*>(in_.data()) + pos_, n);
    pos_ += n;
    return true;
  }
  bool get_value(sdk::Value& v, int depth) {
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
        if (!get_members(o, depth + 1, false)) return false;
        v = sdk::Value(std::move(o));
        return true;
      }
      default:
        return false;
    }
  }
  // Appends the members; with `skip_taken`, those whose key `o` already has are read past.
  bool get_members(sdk::Value::Object& o, int depth, bool skip_taken) {
    std::uint32_t n = 0;
    if (!get(n)) return false;
    o.reserve(o.size() + std::min<std::uint32_t>(n, 1024));
    sdk::Value scratch;
    for (std::uint32_t i = 0; i < n; ++i) {
      std::string_view key;
      if (!get_str(key)) return false;
      if (skip_taken &&
          std::any_of(o.begin(), o.end(), [&](const auto& m) { return m.first == key; })) {
        if (!get_value(scratch, depth)) return false;
        continue;
      }
      o.emplace_back(std::string(key), nullptr);
      if (!get_value(o.back().second, depth)) return false;
    }
    return true;
  }
  bool done() const noexcept { return pos_ == in_.size(); }

 private:
  std::span<const std::byte> in_;
  std::size_t pos_ = 0;
};

}  // namespace

std::size_t payload_size(std::string_view message, sdk::Fields fields, const sdk::Value* exception,
                         const sdk::Value::Object* context) noexcept {
  SizeOut out;
  put_payload(out, message, fields, exception, context);
  return out.too_long ? SIZE_MAX : out.n;
}

void write_payload(std::byte* at, std::string_view message, sdk::Fields fields,
                   const sdk::Value* exception, const sdk::Value::Object* context) noexcept {
  ByteOut out{at};
  put_payload(out, message, fields, exception, context);
}

bool payload_message(std::span<const std::byte> payload, std::string_view& message) noexcept {
  Reader r(payload);
  return r.get_str(message);
}

bool decode_payload(std::span<const std::byte> payload, std::uint64_t suppressed,
                    DecodedRecord& out) {
  Reader r(payload);
  std::string_view message;
  if (!r.get_str(message)) return false;
  out.message.assign(message);
  // Reuse the previous record's member vector: one allocation less per record.
  if (!out.extra.is_object()) out.extra = sdk::Value(sdk::Value::Object{});
  sdk::Value::Object& extra = out.extra.as_object();
  extra.clear();
  std::uint8_t has_exception = 0;
  if (!r.get_members(extra, 1, false) || !r.get(has_exception) || has_exception > 1) return false;
  if (has_exception) {
    extra.emplace_back("exception", nullptr);
    if (!r.get_value(extra.back().second, 1)) return false;
  }
  if (suppressed) extra.emplace_back("suppressed", static_cast<long long>(suppressed));
  return r.get_members(extra, 1, true) && r.done();
}

}  // namespace crosscut::logging
