#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "plugins/plugin_library.hpp"
#include "plugins/plugin_set.hpp"
#include "support/process.hpp"

namespace fs = std::filesystem;
using crosscut::plugins::load_plugin;
using crosscut::plugins::PluginLoadError;
using crosscut::testing::TempDir;

namespace {

fs::path fixture(const std::string& name) {
  return fs::path(CROSSCUT_TEST_FIXTURE_PLUGIN_DIR) / name / ("libcrosscut-" + name + ".so");
}

std::string load_error(const fs::path& file, bool check_permissions = true) {
  try {
    load_plugin(file, check_permissions);
  } catch (const PluginLoadError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(PluginLoader, LoadsAWellFormedPlugin) {
  auto p = load_plugin(fixture("fixture_good"), true);
  EXPECT_EQ(p.name, "fixture_good");
  EXPECT_EQ(p.version, "0.1.0");
  ASSERT_NE(p.descriptor, nullptr);
  ASSERT_EQ(p.descriptor->components.size(), 1u);
  EXPECT_EQ(p.descriptor->components[0].type, "fixture_null");
  EXPECT_EQ(p.descriptor->components[0].kind, crosscut::sdk::ComponentKind::record_sink);
}

TEST(PluginLoader, RefusesAnotherSdkAbiNamingFileAndBothVersions) {
  std::string err = load_error(fixture("fixture_abi_mismatch"));
  EXPECT_NE(err.find(fixture("fixture_abi_mismatch").string()), std::string::npos) << err;
  EXPECT_NE(err.find("SDK ABI 99"), std::string::npos) << err;
  EXPECT_NE(err.find("SDK ABI " + std::to_string(CROSSCUT_SDK_ABI_VERSION)), std::string::npos)
      << err;
  EXPECT_EQ(err.find('\n'), std::string::npos);
}

TEST(PluginLoader, RefusesAnotherCompilerAbi) {
  std::string err = load_error(fixture("fixture_compiler_mismatch"));
  EXPECT_NE(err.find("othercc-7/cxx11abi=0"), std::string::npos) << err;
  EXPECT_NE(err.find(CROSSCUT_SDK_COMPILER_ABI), std::string::npos) << err;
  EXPECT_NE(err.find("libcrosscut-fixture_compiler_mismatch.so"), std::string::npos) << err;
}

TEST(PluginLoader, RefusesALibraryWithoutEntryPoint) {
  std::string err = load_error(fixture("fixture_no_entry"));
  EXPECT_NE(err.find("no 'crosscut_plugin_entry' entry point"), std::string::npos) << err;
}

TEST(PluginLoader, ShowsTheDynamicLoaderMessageForAFileThatIsNotALibrary) {
  TempDir dir;
  auto file = dir.write("libcrosscut-garbage.so", std::string(4096, 'x'));
  std::string err = load_error(file);
  EXPECT_NE(err.find("cannot load"), std::string::npos) << err;
  EXPECT_NE(err.find("invalid ELF header"), std::string::npos) << err;
  EXPECT_EQ(err.find("dlerror system message"), std::string::npos) << err;
}

TEST(PluginLoader, RefusesAPluginFileWritableByOthers) {
  TempDir dir;
  fs::permissions(dir.path(), fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                  fs::perms::others_read | fs::perms::others_exec);
  auto copy = dir.path() / "libcrosscut-fixture_good.so";
  fs::copy_file(fixture("fixture_good"), copy);
  fs::permissions(copy, fs::perms::others_write, fs::perm_options::add);
  std::string err = load_error(copy);
  EXPECT_NE(err.find("writable by users other than its owner"), std::string::npos) << err;
  EXPECT_NE(err.find(copy.string()), std::string::npos) << err;
  // The check is configurable.
  EXPECT_EQ(load_error(copy, false), "");
}

TEST(PluginLoader, RefusesAPluginInAFolderWritableByOthers) {
  TempDir dir;
  auto copy = dir.path() / "libcrosscut-fixture_good.so";
  fs::copy_file(fixture("fixture_good"), copy);
  fs::permissions(copy, fs::perms::owner_all | fs::perms::group_read | fs::perms::others_read);
  fs::permissions(dir.path(), fs::perms::all);
  std::string err = load_error(copy);
  EXPECT_NE(err.find("its folder"), std::string::npos) << err;
}

TEST(PluginSet, RefusesTwoPluginsClaimingOneKindAndType) {
  crosscut::plugins::PluginSet set;
  set.add(load_plugin(fixture("fixture_good"), true));
  try {
    set.add(load_plugin(fixture("fixture_duplicate"), true));
    FAIL() << "a duplicate kind/type was accepted";
  } catch (const PluginLoadError& e) {
    std::string err = e.what();
    EXPECT_NE(err.find("libcrosscut-fixture_duplicate.so"), std::string::npos) << err;
    EXPECT_NE(err.find("libcrosscut-fixture_good.so"), std::string::npos) << err;
    EXPECT_NE(err.find("record_sink type 'fixture_null'"), std::string::npos) << err;
  }
  ASSERT_TRUE(set.find(crosscut::sdk::ComponentKind::record_sink, "fixture_null").has_value());
  EXPECT_EQ(set.find(crosscut::sdk::ComponentKind::record_sink, "fixture_null")->plugin->name,
            "fixture_good");
}

TEST(PluginDiscovery, NamesFilesAndTakesTheFirstFolderThatHasAName) {
  EXPECT_EQ(crosscut::plugins::plugin_name_of("/x/libcrosscut-kafka.so"), "kafka");
  EXPECT_EQ(crosscut::plugins::plugin_name_of("/x/my_rules.so"), "my_rules");
  EXPECT_EQ(crosscut::plugins::plugin_name_of("/x/libssl.so"), "");
  EXPECT_EQ(crosscut::plugins::plugin_name_of("/x/notes.txt"), "");

  TempDir a, b;
  a.write("libcrosscut-one.so", "a");
  b.write("libcrosscut-one.so", "b");
  b.write("two.so", "b");
  auto found = crosscut::plugins::discover_plugins({a.path(), b.path(), "/nonexistent/folder"});
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].name, "one");
  EXPECT_EQ(found[0].file.parent_path(), a.path());
  EXPECT_EQ(found[1].name, "two");
}

TEST(PluginsCommand, ListsNameVersionAbiAndComponents) {
  auto r = crosscut::testing::run_crosscut(
      {"plugins", "--path", fixture("fixture_good").parent_path().string()}, "",
      {{"CROSSCUT_PLUGIN_PATH", ""}});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(
      r.out.find("fixture_good 0.1.0 (SDK ABI " + std::to_string(CROSSCUT_SDK_ABI_VERSION) + ")"),
      std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("record_sink/fixture_null"), std::string::npos) << r.out;
}

TEST(PluginsCommand, DescribePrintsTheSchema) {
  auto r = crosscut::testing::run_crosscut(
      {"plugins", "--path", fixture("fixture_good").parent_path().string(), "--describe",
       "fixture_null"},
      "", {{"CROSSCUT_PLUGIN_PATH", ""}});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("interval"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("default=1s"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("secret"), std::string::npos) << r.out;
}

TEST(PluginsCommand, ReportsEachUnloadablePluginOnOneLineAndFails) {
  TempDir dir;
  fs::copy_file(fixture("fixture_abi_mismatch"),
                dir.path() / "libcrosscut-fixture_abi_mismatch.so");
  fs::copy_file(fixture("fixture_good"), dir.path() / "libcrosscut-fixture_good.so");
  auto r = crosscut::testing::run_crosscut({"plugins", "--path", dir.path().string()}, "",
                                           {{"CROSSCUT_PLUGIN_PATH", ""}});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("SDK ABI 99"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("fixture_good"), std::string::npos) << r.out;
}
