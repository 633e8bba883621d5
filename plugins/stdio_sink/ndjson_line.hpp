// One record as one NDJSON line: {"id":…,"topic":…,"key":…,"value":<payload JSON>}, "id"
// (the record's identity, the same on every redelivery) only when the record has one.
#pragma once

#include <string>

#include "crosscut/sdk/record_sink.hpp"

namespace crosscut::stdio_sink {

// Appends the record's line, newline included, to `out`. The payload is embedded as JSON
// (re-serialised compactly, numbers kept as written) when it is one valid JSON document;
// otherwise it is embedded as a JSON string and the function returns false. Invalid UTF-8 in
// the id, the topic, the key or a non-JSON payload becomes U+FFFD, so the line is always
// valid JSON. Deeply nested payloads are parsed without recursion. Headers are not written.
bool append_ndjson_line(const sdk::Record& record, std::string& out);

}  // namespace crosscut::stdio_sink
