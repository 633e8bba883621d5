#include <gtest/gtest.h>

#include "config/yaml_tree_loader.hpp"

using crosscut::config::EnvLookup;
using crosscut::config::parse_yaml_tree;
using crosscut::sdk::ConfigError;
using crosscut::sdk::ConfigNode;

namespace {

EnvLookup fake_env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

std::string error_of(const std::string& yaml, const EnvLookup& env = fake_env({})) {
  try {
    parse_yaml_tree(yaml, "t.yaml", env);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(YamlTree, KeepsOrderPositionsAndQuoting) {
  auto t = parse_yaml_tree("b: 1\na:\n  x: \"5\"\n  y: [1, two]\n", "t.yaml", fake_env({}));
  ASSERT_EQ(t.root.kind, ConfigNode::Kind::map);
  ASSERT_EQ(t.root.entries.size(), 2u);
  EXPECT_EQ(t.root.entries[0].first, "b");
  EXPECT_EQ(t.root.entries[1].first, "a");
  const ConfigNode* x = t.root.find("a")->find("x");
  ASSERT_NE(x, nullptr);
  EXPECT_TRUE(x->quoted);
  EXPECT_EQ(x->scalar, "5");
  EXPECT_EQ(x->mark.line, 3);
  EXPECT_EQ(x->mark.column, 6);
  EXPECT_EQ(x->key_mark.line, 3);
  EXPECT_EQ(x->key_mark.column, 3);
  const ConfigNode* y = t.root.find("a")->find("y");
  ASSERT_EQ(y->kind, ConfigNode::Kind::sequence);
  EXPECT_FALSE(y->items[0].quoted);
  EXPECT_EQ(y->items[1].scalar, "two");
  EXPECT_EQ(*t.file, "t.yaml");
}

TEST(YamlTree, NullsAndEmptyDocuments) {
  auto t = parse_yaml_tree("a:\nb: ~\nc: null\n", "t.yaml", fake_env({}));
  for (const char* k : {"a", "b", "c"})
    EXPECT_EQ(t.root.find(k)->kind, ConfigNode::Kind::null) << k;
  auto empty = parse_yaml_tree("", "t.yaml", fake_env({}));
  EXPECT_EQ(empty.root.kind, ConfigNode::Kind::map);
  EXPECT_TRUE(empty.root.entries.empty());
  auto comments = parse_yaml_tree("# nothing here\n", "t.yaml", fake_env({}));
  EXPECT_EQ(comments.root.kind, ConfigNode::Kind::map);
}

TEST(YamlTree, InterpolatesEnvironmentVariables) {
  auto env = fake_env({{"HOST", "10.0.0.1"}, {"PORT", "6379"}, {"EMPTY", ""}});
  auto t = parse_yaml_tree(
      "url: \"redis://${HOST}:${PORT}/0\"\nport: ${PORT}\nd: ${MISSING:-fallback}\ne: "
      "${EMPTY:-used}\n"
      "cost: $$5\nplain: a$b\n",
      "t.yaml", env);
  EXPECT_EQ(t.root.find("url")->scalar, "redis://10.0.0.1:6379/0");
  EXPECT_EQ(t.root.find("port")->scalar, "6379");
  EXPECT_FALSE(t.root.find("port")->quoted);  // still a number to the schema
  EXPECT_EQ(t.root.find("d")->scalar, "fallback");
  EXPECT_EQ(t.root.find("e")->scalar, "used");
  EXPECT_EQ(t.root.find("cost")->scalar, "$5");
  EXPECT_EQ(t.root.find("plain")->scalar, "a$b");
}

TEST(YamlTree, RefusesUnsetVariablesAndBadNames) {
  EXPECT_NE(error_of("a: ${NOPE}\n").find("t.yaml:1:4: environment variable 'NOPE' is not set"),
            std::string::npos);
  EXPECT_NE(error_of("a: ${BAD-NAME}\n").find("invalid variable name 'BAD-NAME'"),
            std::string::npos);
}

TEST(YamlTree, AliasesAreCopied) {
  auto t = parse_yaml_tree("base: &b {x: 1}\nother: *b\n", "t.yaml", fake_env({}));
  const ConfigNode* other = t.root.find("other");
  ASSERT_EQ(other->kind, ConfigNode::Kind::map);
  EXPECT_EQ(other->find("x")->scalar, "1");
}

TEST(YamlTree, RefusesDuplicateKeysAtAnyDepth) {
  EXPECT_NE(
      error_of("a: 1\na: 2\n").find("t.yaml:2:1: duplicate key 'a' (first defined at line 1)"),
      std::string::npos);
  EXPECT_NE(error_of("s:\n  - {k: 1, k: 2}\n").find("duplicate key 'k'"), std::string::npos);
  EXPECT_NE(
      error_of("m:\n  n:\n    deep: 1\n    deep: 1\n").find("t.yaml:4:5: duplicate key 'deep'"),
      std::string::npos);
}

TEST(YamlTree, RefusesComplexKeysAndSecondDocuments) {
  EXPECT_NE(error_of("? [a, b]\n: 1\n").find("map keys must be plain values"), std::string::npos);
  EXPECT_NE(error_of("a: 1\n---\nb: 2\n").find("only one YAML document"), std::string::npos);
}
