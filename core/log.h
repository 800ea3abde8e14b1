// core/log.h — one structured line per event, to stderr (journald picks it up).
//
//   LogEvent("http.listen", {{"addr", "127.0.0.1:8080"}});
//   → event=http.listen addr=127.0.0.1:8080
//
// Values with spaces or quotes are quoted. Never pass passwords, tokens, keys
// or students' work. Thread-safe (one write(2) per line).
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace relais::core {

using LogField = std::pair<std::string_view, std::string>;

void LogEvent(std::string_view event, std::initializer_list<LogField> fields = {});
// Like LogEvent, but the line may wait up to 200 ms in memory and go out with
// others in one write: for the access log, one line per request, where a
// write(2) per line from hundreds of threads costs more than the request.
void LogEventBuffered(std::string_view event, std::initializer_list<LogField> fields = {});
// Writes out what LogEventBuffered holds. Called at exit.
void FlushLog();
// Silences LogEvent (tests, benchmarks).
void SetLogQuiet(bool quiet);

}  // namespace relais::core
