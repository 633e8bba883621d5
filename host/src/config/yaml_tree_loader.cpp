#include "config/yaml_tree_loader.hpp"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "config/text_position.hpp"

namespace crosscut::config {
namespace {

using sdk::ConfigError;
using sdk::ConfigNode;

// Past this many nodes (after alias expansion) a document is refused: a config is small, and
// an alias bomb ("billion laughs") must not exhaust memory.
constexpr std::size_t kMaxNodes = 200'000;
constexpr std::size_t kMaxFileBytes = 16 * 1024 * 1024;
// Text an alias may copy in all: a few aliases of one large scalar would otherwise cost
// gigabytes while staying far below the node limit.
constexpr std::size_t kMaxAliasedBytes = 16 * 1024 * 1024;

// The bytes of text (keys and scalars) a node holds, what copying it costs.
std::size_t text_bytes(const ConfigNode& n) {
  std::size_t bytes = n.scalar.size();
  for (const auto& item : n.items) bytes += text_bytes(item);
  for (const auto& [key, value] : n.entries) bytes += key.size() + text_bytes(value);
  return bytes;
}

sdk::Mark to_mark(const YAML::Mark& m) {
  return {m.line + 1, m.column + 1};
}

class TreeBuilder : public YAML::EventHandler {
 public:
  TreeBuilder(std::string file, const EnvLookup& env) : file_(std::move(file)), env_(env) {}

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    ConfigNode n;
    n.mark = to_mark(mark);
    finish(std::move(n), anchor);
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto it = anchors_.find(anchor);
    if (it == anchors_.end()) fail(to_mark(mark), "unknown alias");
    count(it->second.second, to_mark(mark));
    aliased_bytes_ += text_bytes(it->second.first);
    if (aliased_bytes_ > kMaxAliasedBytes)
      fail(to_mark(mark), "document too large after alias expansion (aliases copy over 16 MiB)");
    ConfigNode copy = it->second.first;
    finish(std::move(copy), 0);
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    ConfigNode n;
    n.mark = to_mark(mark);
    n.quoted = (tag == "!");
    const bool plain = (tag == "?" || tag.empty());
    if (plain && (value == "~" || value == "null" || value == "Null" || value == "NULL")) {
      n.kind = ConfigNode::Kind::null;
    } else {
      n.kind = ConfigNode::Kind::scalar;
      n.scalar = expecting_key() ? value : interpolate(value, n.mark);
    }
    finish(std::move(n), anchor);
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(ConfigNode::Kind::sequence, mark, anchor);
  }
  void OnSequenceEnd() override { close(); }

  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open(ConfigNode::Kind::map, mark, anchor);
  }
  void OnMapEnd() override {
    if (stack_.back().key) fail(stack_.back().node.mark, "a map key has no value");
    close();
  }

  bool done() const { return has_root_; }
  ConfigNode take_root() { return std::move(root_); }

 private:
  struct Frame {
    ConfigNode node;
    YAML::anchor_t anchor = 0;
    std::size_t nodes = 1;           // nodes inside, for alias accounting
    std::optional<std::string> key;  // map: key waiting for its value
    sdk::Mark key_mark;
  };

  [[noreturn]] void fail(sdk::Mark m, const std::string& what) const {
    throw ConfigError(file_ + ":" + std::to_string(m.line) + ":" + std::to_string(m.column) + ": " +
                      what);
  }

  void count(std::size_t n, sdk::Mark where) {
    total_nodes_ += n;
    if (total_nodes_ > kMaxNodes)
      fail(where, "document too large after alias expansion (over " + std::to_string(kMaxNodes) +
                      " nodes)");
    for (auto& f : stack_) f.nodes += n;
  }

  bool expecting_key() const {
    return !stack_.empty() && stack_.back().node.kind == ConfigNode::Kind::map &&
           !stack_.back().key;
  }

  void open(ConfigNode::Kind kind, const YAML::Mark& mark, YAML::anchor_t anchor) {
    if (expecting_key()) fail(to_mark(mark), "map keys must be plain values, not lists or maps");
    Frame f;
    f.node.kind = kind;
    f.node.mark = to_mark(mark);
    f.anchor = anchor;
    count(1, f.node.mark);
    stack_.push_back(std::move(f));
  }

  void close() {
    Frame f = std::move(stack_.back());
    stack_.pop_back();
    if (f.anchor != 0) anchors_[f.anchor] = {f.node, f.nodes};
    attach(std::move(f.node));
  }

  void finish(ConfigNode n, YAML::anchor_t anchor) {
    if (n.kind == ConfigNode::Kind::null || n.kind == ConfigNode::Kind::scalar) count(1, n.mark);
    if (anchor != 0) anchors_[anchor] = {n, 1};
    attach(std::move(n));
  }

  void attach(ConfigNode n) {
    if (stack_.empty()) {
      root_ = std::move(n);
      has_root_ = true;
      return;
    }
    Frame& parent = stack_.back();
    if (parent.node.kind == ConfigNode::Kind::sequence) {
      parent.node.items.push_back(std::move(n));
      return;
    }
    if (!parent.key) {
      if (n.kind == ConfigNode::Kind::null) {
        n.kind = ConfigNode::Kind::scalar;  // `~:` as a key is the string "~"; keep it simple
      }
      if (n.kind != ConfigNode::Kind::scalar)
        fail(n.mark, "map keys must be plain values, not lists or maps");
      if (const ConfigNode* first = parent.node.find(n.scalar); first != nullptr) {
        fail(n.mark, "duplicate key '" + n.scalar + "' (first defined at line " +
                         std::to_string(first->key_mark.line) + ")");
      }
      parent.key = n.scalar;
      parent.key_mark = n.mark;
      return;
    }
    n.key_mark = parent.key_mark;
    parent.node.entries.emplace_back(std::move(*parent.key), std::move(n));
    parent.key.reset();
  }

  // ${VAR}, ${VAR:-default}; "$$" is a literal "$".
  std::string interpolate(const std::string& s, sdk::Mark mark) const {
    if (s.find('$') == std::string::npos) return s;
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s[i] != '$') {
        out += s[i];
        continue;
      }
      if (i + 1 < s.size() && s[i + 1] == '$') {
        out += '$';
        ++i;
        continue;
      }
      if (i + 1 >= s.size() || s[i + 1] != '{') {
        out += '$';
        continue;
      }
      auto end = s.find('}', i + 2);
      if (end == std::string::npos) fail(mark, "unterminated '${' in '" + s + "'");
      std::string expr = s.substr(i + 2, end - i - 2);
      std::string name = expr;
      std::optional<std::string> fallback;
      if (auto sep = expr.find(":-"); sep != std::string::npos) {
        name = expr.substr(0, sep);
        fallback = expr.substr(sep + 2);
      }
      bool valid = !name.empty();
      for (char c : name)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) valid = false;
      if (!valid) fail(mark, "invalid variable name '" + name + "' in '${" + expr + "}'");
      auto value = env_(name);
      // ${VAR:-default} takes the default when VAR is unset or empty; ${VAR} needs VAR set.
      if (value && (!value->empty() || !fallback))
        out += *value;
      else if (fallback)
        out += *fallback;
      else
        fail(mark, "environment variable '" + name + "' is not set (use ${" + name +
                       ":-default} to give a default)");
      i = end;
    }
    return out;
  }

  std::string file_;
  const EnvLookup& env_;
  std::vector<Frame> stack_;
  std::map<YAML::anchor_t, std::pair<ConfigNode, std::size_t>> anchors_;
  std::size_t total_nodes_ = 0;
  std::size_t aliased_bytes_ = 0;
  ConfigNode root_;
  bool has_root_ = false;
};

}  // namespace

EnvLookup process_environment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
}

LoadedTree parse_yaml_tree(std::string_view text, const std::string& file, const EnvLookup& env) {
  auto fail_at = [&](TextPosition p, const std::string& what) {
    throw ConfigError(file + ":" + std::to_string(p.line) + ":" + std::to_string(p.column) + ": " +
                      what);
  };
  if (auto bad = find_invalid_text(text)) fail_at(bad->position, bad->problem);

  LoadedTree out;
  out.file = std::make_shared<const std::string>(file);
  std::string owned(text);
  std::istringstream in(owned);
  TreeBuilder builder(file, env);
  try {
    YAML::Parser parser(in);
    parser.HandleNextDocument(builder);
    if (builder.done()) {
      TreeBuilder extra(file, env);
      if (parser.HandleNextDocument(extra))
        throw ConfigError(file + ": only one YAML document is allowed (found a second '---')");
    }
  } catch (const YAML::DeepRecursion& e) {
    fail_at({e.mark.line + 1, e.mark.column + 1}, "nesting is too deep");
  } catch (const YAML::Exception& e) {
    fail_at({e.mark.line + 1, e.mark.column + 1}, "YAML syntax error: " + e.msg);
  }
  if (!builder.done()) {
    out.root.kind = ConfigNode::Kind::map;
    out.root.mark = {1, 1};
    return out;
  }
  out.root = builder.take_root();
  if (out.root.kind == ConfigNode::Kind::null) {
    out.root.kind = ConfigNode::Kind::map;
  } else if (out.root.kind != ConfigNode::Kind::map) {
    fail_at({out.root.mark.line, out.root.mark.column},
            "the configuration must be a map of sections (e.g. 'crosscut: 1')");
  }
  return out;
}

LoadedTree load_yaml_file(const std::string& path, const EnvLookup& env) {
  // Non-blocking: opening a FIFO nobody writes to must not hang; fstat() then refuses it.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    const int err = errno;
    char buffer[256];
    const std::string reason = ::strerror_r(err, buffer, sizeof buffer);
    // Out of descriptors or memory says nothing about the file.
    if (err == EMFILE || err == ENFILE || err == ENOMEM)
      throw std::runtime_error(path + ": cannot open the configuration file: " + reason);
    throw ConfigError(path + ": cannot read the configuration file: " + reason);
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    const char* what = S_ISDIR(st.st_mode)                          ? "a directory"
                       : S_ISFIFO(st.st_mode)                       ? "a FIFO"
                       : S_ISSOCK(st.st_mode)                       ? "a socket"
                       : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "a device"
                                                                    : "not a regular file";
    throw ConfigError(path + ": is " + std::string(what) +
                      ", not a configuration file (a regular file is required)");
  }
  if (static_cast<std::uint64_t>(st.st_size) > kMaxFileBytes)
    throw ConfigError(path + ": configuration file is larger than 16 MiB");
  std::string text;
  char buf[65536];
  for (;;) {
    const ssize_t got = ::read(fd, buf, sizeof buf);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      char buffer[256];
      throw ConfigError(path + ": cannot read the configuration file: " +
                        ::strerror_r(errno, buffer, sizeof buffer));
    }
    if (got == 0) break;
    text.append(buf, static_cast<std::size_t>(got));
    if (text.size() > kMaxFileBytes)
      throw ConfigError(path + ": configuration file is larger than 16 MiB");
  }
  return parse_yaml_tree(text, path, env);
}

}  // namespace crosscut::config
