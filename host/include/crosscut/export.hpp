// What libcrosscut exports. The library is built with hidden visibility: only declarations
// marked CROSSCUT_API (the public headers' classes and functions) are in its dynamic symbol
// table, so everything else can change without breaking programs linked against it.
#pragma once

#define CROSSCUT_API __attribute__((visibility("default")))
