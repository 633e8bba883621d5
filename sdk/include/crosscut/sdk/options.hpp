// Options declared once: an OptionTable binds each configuration key to a member of a plain
// options struct. The same table gives the schema the host validates against (types, choices,
// bounds, required, secret), the defaults (the struct's own member initialisers), the text
// `crosscut plugins --describe` shows, and the reader that fills the struct.
//
//   struct QueueOptions {
//     std::size_t capacity = 65536;
//     OverflowPolicy on_full = OverflowPolicy::block;
//     std::chrono::milliseconds block_timeout{100};
//   };
//   inline const sdk::OptionTable<QueueOptions>& queue_options() {
//     static const sdk::OptionTable<QueueOptions> table{
//         sdk::bind_option("queue_capacity", &QueueOptions::capacity, "records waiting").min(1),
//         sdk::bind_option("on_full", &QueueOptions::on_full, "when the queue is full")
//             .choices({{"block", OverflowPolicy::block}, {"drop", OverflowPolicy::drop_newest}}),
//         sdk::bind_option("block_timeout", &QueueOptions::block_timeout, "longest
//         wait").positive(),
//     };
//     return table;
//   }
//
// A component names its table in `static const OptionTable<O>& options_table()` and is built
// from the filled struct; make_factory<T>() takes the schema and the reader from there.
// Nested sections bind a struct member with `.members(other_table)`; a list of sections binds
// a std::vector of structs the same way. std::optional members have no default (absent stays
// absent); ByteSize members are sizes; enum members map their config names with .choices().
//
// Tables are immutable once built and safe to read from any thread. read() expects a view the
// host has already validated against schema(): it does not check again, and a value that
// does not convert (only possible when validation was skipped) throws ConfigError at the key.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "crosscut/sdk/abi.hpp"
#include "crosscut/sdk/config.hpp"

CROSSCUT_SDK_BEGIN_NAMESPACE

// The shortest period an option may give recurring work (a flush, a poll, a health record):
// anything shorter only burns a core while idle.
inline constexpr std::chrono::milliseconds kMinimumInterval{10};

// A byte count in an options struct: the `size` option type ("64KiB", "10MiB").
struct ByteSize {
  std::uint64_t bytes = 0;
  friend bool operator==(ByteSize, ByteSize) = default;
};

template <class T>
class OptionTable;

namespace detail {

template <class M>
struct is_duration : std::false_type {};
template <class R, class P>
struct is_duration<std::chrono::duration<R, P>> : std::true_type {};

template <class M>
struct is_optional : std::false_type {};
template <class M>
struct is_optional<std::optional<M>> : std::true_type {};

template <class M>
struct unwrap_optional {
  using type = M;
};
template <class M>
struct unwrap_optional<std::optional<M>> {
  using type = M;
};

template <class M>
struct is_vector : std::false_type {};
template <class M>
struct is_vector<std::vector<M>> : std::true_type {};

using StringPairs = std::vector<std::pair<std::string, std::string>>;

// Config text of a duration: whole hours, else whole seconds, else the finest exact unit.
inline std::string duration_text(std::chrono::nanoseconds d) {
  using namespace std::chrono;
  const auto n = d.count();
  if (n != 0 && n % duration_cast<nanoseconds>(hours(1)).count() == 0)
    return std::to_string(duration_cast<hours>(d).count()) + "h";
  if (n % 1000000000 == 0) return std::to_string(n / 1000000000) + "s";
  if (n % 1000000 == 0) return std::to_string(n / 1000000) + "ms";
  if (n % 1000 == 0) return std::to_string(n / 1000) + "us";
  return std::to_string(n) + "ns";
}

// Config text of a size: the largest binary unit that divides it.
inline std::string size_text(std::uint64_t b) {
  if (b != 0 && b % (1ULL << 30) == 0) return std::to_string(b >> 30) + "GiB";
  if (b != 0 && b % (1ULL << 20) == 0) return std::to_string(b >> 20) + "MiB";
  if (b != 0 && b % (1ULL << 10) == 0) return std::to_string(b >> 10) + "KiB";
  return std::to_string(b);
}

inline std::string number_text(double v) {
  std::string s = std::to_string(v);  // fixed, 6 decimals: trim the zeros
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

inline std::string list_text(const std::vector<std::string>& items) {
  if (items.empty()) return {};
  std::string s = "[";
  for (std::size_t i = 0; i < items.size(); ++i) s += (i ? ", " : "") + items[i];
  return s + "]";
}

}  // namespace detail

// One row of a table: a key bound to a member `M` of `T`. Built by bind_option(); the modifiers
// return the row so they chain.
template <class T, class M>
class OptionBinding {
 public:
  // The member's type, or what its std::optional holds.
  using Plain = typename detail::unwrap_optional<M>::type;

  OptionBinding(std::string key, M T::*member, std::string description) : member_(member) {
    spec_.key = std::move(key);
    spec_.description = std::move(description);
    spec_.type = type_for();
    // An unsigned member cannot hold a negative value, nor a narrow one a value beyond its
    // type: say so in the schema, so that such a value is refused rather than cut.
    if constexpr (std::is_integral_v<Plain> && !std::is_same_v<Plain, bool>) {
      if constexpr (std::is_unsigned_v<Plain>)
        spec_.min = 0;
      else if constexpr (sizeof(Plain) < sizeof(std::int64_t))
        spec_.min = std::numeric_limits<Plain>::min();
      if constexpr (sizeof(Plain) < sizeof(std::int64_t))
        spec_.max = static_cast<std::int64_t>(std::numeric_limits<Plain>::max());
    }
  }

  // An enum member: the config names and the value each stands for, in the order shown.
  OptionBinding&& choices(std::initializer_list<std::pair<const char*, Plain>> names) && {
    for (const auto& [name, value] : names) {
      spec_.choices.emplace_back(name);
      values_.emplace_back(name, value);
    }
    return std::move(*this);
  }
  OptionBinding&& min(std::int64_t v) && {
    spec_.min = v;
    return std::move(*this);
  }
  OptionBinding&& max(std::int64_t v) && {
    spec_.max = v;
    return std::move(*this);
  }
  // Bounds of a duration option (kept in the schema as nanoseconds). Periods of recurring work
  // take .min(kMinimumInterval).
  OptionBinding&& min(std::chrono::nanoseconds v) && {
    spec_.min = v.count();
    return std::move(*this);
  }
  OptionBinding&& max(std::chrono::nanoseconds v) && {
    spec_.max = v.count();
    return std::move(*this);
  }
  OptionBinding&& positive() && {
    spec_.positive = true;
    return std::move(*this);
  }
  OptionBinding&& required() && {
    spec_.required = true;
    return std::move(*this);
  }
  OptionBinding&& secret() && {
    spec_.secret = true;
    return std::move(*this);
  }
  // A string member whose values are fixed, with no enum to map them to.
  OptionBinding&& one_of(std::vector<std::string> names) && {
    spec_.choices = std::move(names);
    return std::move(*this);
  }
  // Nested options (object or object_list member): the member's own table.
  template <class N>
  OptionBinding&& members(const OptionTable<N>& table) && {
    spec_.children = table.schema();
    nested_ = [&table](const ConfigView& view, void* out) {
      *static_cast<N*>(out) = table.read(view, *static_cast<N*>(out));
    };
    return std::move(*this);
  }

 private:
  template <class>
  friend class OptionTable;

  static constexpr OptionType type_for() {
    if constexpr (std::is_same_v<Plain, std::string> || std::is_enum_v<Plain>)
      return OptionType::string;
    else if constexpr (std::is_same_v<Plain, bool>)
      return OptionType::boolean;
    else if constexpr (std::is_integral_v<Plain>)
      return OptionType::integer;
    else if constexpr (std::is_floating_point_v<Plain>)
      return OptionType::number;
    else if constexpr (detail::is_duration<Plain>::value)
      return OptionType::duration;
    else if constexpr (std::is_same_v<Plain, ByteSize>)
      return OptionType::size;
    else if constexpr (std::is_same_v<Plain, std::vector<std::string>>)
      return OptionType::string_list;
    else if constexpr (std::is_same_v<Plain, detail::StringPairs>)
      return OptionType::string_map;
    else if constexpr (detail::is_vector<Plain>::value)
      return OptionType::object_list;
    else
      return OptionType::object;
  }

  // The default in config syntax, from a value-initialised struct; empty: no default.
  std::string default_text(const T& defaults) const {
    if constexpr (detail::is_optional<M>::value) {
      return {};
    } else {
      const M& v = defaults.*member_;
      if constexpr (std::is_same_v<M, std::string>)
        return v;
      else if constexpr (std::is_same_v<M, bool>)
        return v ? "true" : "false";
      else if constexpr (std::is_enum_v<M>) {
        for (const auto& [name, value] : values_)
          if (value == v) return name;
        return {};
      } else if constexpr (std::is_integral_v<M>)
        return std::to_string(v);
      else if constexpr (std::is_floating_point_v<M>)
        return detail::number_text(v);
      else if constexpr (detail::is_duration<M>::value)
        return detail::duration_text(std::chrono::duration_cast<std::chrono::nanoseconds>(v));
      else if constexpr (std::is_same_v<M, ByteSize>)
        return detail::size_text(v.bytes);
      else if constexpr (std::is_same_v<M, std::vector<std::string>>)
        return detail::list_text(v);
      else
        return {};  // maps and nested objects: their members carry the defaults
    }
  }

  void read(const ConfigView& view, T& out) const {
    const std::string& key = spec_.key;
    if (!view.has(key)) return;  // absent: the struct keeps its default
    if constexpr (type_for() == OptionType::object) {
      Plain value{};
      if constexpr (!detail::is_optional<M>::value)
        value = out.*member_;
      else if ((out.*member_).has_value())
        value = *(out.*member_);
      if (nested_) nested_(view.child(key), &value);
      out.*member_ = std::move(value);
    } else {
      out.*member_ = convert(view, key);
    }
  }

  Plain convert(const ConfigView& view, const std::string& key) const {
    if constexpr (std::is_same_v<Plain, std::string>)
      return view.get_string(key);
    else if constexpr (std::is_same_v<Plain, bool>)
      return view.get_bool(key);
    else if constexpr (std::is_enum_v<Plain>) {
      const std::string name = view.get_string(key);
      for (const auto& [n, value] : values_)
        if (n == name) return value;
      view.fail(key, "unexpected value '" + name + "'");
    } else if constexpr (std::is_integral_v<Plain>) {
      return static_cast<Plain>(view.get_int(key));  // bounds: checked by the host
    } else if constexpr (std::is_floating_point_v<Plain>) {
      return static_cast<Plain>(view.get_number(key));
    } else if constexpr (detail::is_duration<Plain>::value) {
      // Rounded up, so that a positive duration stays positive in a coarser member.
      return std::chrono::ceil<Plain>(view.get_duration(key));
    } else if constexpr (std::is_same_v<Plain, ByteSize>) {
      return ByteSize{view.get_size(key)};
    } else if constexpr (std::is_same_v<Plain, std::vector<std::string>>) {
      return view.get_string_list(key);
    } else if constexpr (std::is_same_v<Plain, detail::StringPairs>) {
      return view.get_string_map(key);
    } else if constexpr (detail::is_vector<Plain>::value) {
      Plain items;
      for (const auto& child : view.children(key)) {
        typename Plain::value_type item{};
        if (nested_) nested_(child, &item);
        items.push_back(std::move(item));
      }
      return items;
    } else {
      return Plain{};
    }
  }

  OptionSpec spec_;
  M T::*member_;
  std::vector<std::pair<std::string, Plain>> values_;  // enum choices
  std::function<void(const ConfigView&, void*)> nested_;
};

// A key the component reads itself (type `any`): in the schema, bound to no member.
struct UnboundOption {
  OptionSpec spec;
};

inline UnboundOption unbound(std::string key, OptionType type, std::string description) {
  UnboundOption o;
  o.spec.key = std::move(key);
  o.spec.type = type;
  o.spec.description = std::move(description);
  return o;
}

template <class T, class M>
OptionBinding<T, M> bind_option(std::string key, M T::*member, std::string description) {
  return OptionBinding<T, M>(std::move(key), member, std::move(description));
}

template <class T>
class OptionTable {
 public:
  template <class... Rows>
  explicit OptionTable(Rows&&... rows) {
    const T defaults{};
    (add(std::forward<Rows>(rows), defaults), ...);
  }

  // The schema the host validates against; defaults are the struct's member initialisers.
  const ConfigSchema& schema() const { return schema_; }
  // The same schema with no defaults: for a section read over another struct (an override of
  // a policy), where an absent key keeps the value it is read onto.
  ConfigSchema schema_without_defaults() const {
    ConfigSchema s = schema_;
    strip_defaults(s);
    return s;
  }
  // Fills a struct from a validated view; keys that are absent keep `start`'s values.
  T read(const ConfigView& view, T start = T{}) const {
    for (const auto& r : readers_) r(view, start);
    return start;
  }

 private:
  template <class M>
  void add(OptionBinding<T, M>&& row, const T& defaults) {
    OptionSpec spec = row.spec_;
    if (!spec.required) spec.default_value = row.default_text(defaults);
    schema_.push_back(std::move(spec));
    readers_.push_back([row = std::move(row)](const ConfigView& v, T& out) { row.read(v, out); });
  }
  void add(UnboundOption&& row, const T&) { schema_.push_back(std::move(row.spec)); }

  static void strip_defaults(ConfigSchema& s) {
    for (auto& spec : s) {
      spec.default_value.clear();
      strip_defaults(spec.children);
    }
  }

  ConfigSchema schema_;
  std::vector<std::function<void(const ConfigView&, T&)>> readers_;
};

CROSSCUT_SDK_END_NAMESPACE
