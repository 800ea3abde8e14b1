#include "core/log.h"

#include <unistd.h>

#include <atomic>

namespace relais::core {
namespace {
std::atomic<bool> g_quiet{false};

void AppendValue(std::string& line, std::string_view v) {
  bool quote = v.empty() || v.find_first_of(" \"=\t\n") != std::string_view::npos;
  if (!quote) {
    line.append(v);
    return;
  }
  line.push_back('"');
  for (char c : v) {
    if (c == '"' || c == '\\') line.push_back('\\');
    if (c == '\n') {
      line.append("\\n");
      continue;
    }
    line.push_back(c);
  }
  line.push_back('"');
}
}  // namespace

void SetLogQuiet(bool quiet) { g_quiet = quiet; }

void LogEvent(std::string_view event, std::initializer_list<LogField> fields) {
  if (g_quiet) return;
  std::string line = "event=";
  line.append(event);
  for (const auto& [k, v] : fields) {
    line.push_back(' ');
    line.append(k);
    line.push_back('=');
    AppendValue(line, v);
  }
  line.push_back('\n');
  ssize_t ignored = ::write(2, line.data(), line.size());
  (void)ignored;
}

}  // namespace relais::core
