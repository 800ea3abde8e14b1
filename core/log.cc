#include "core/log.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

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

std::string FormatLine(std::string_view event, std::initializer_list<LogField> fields) {
  std::string line = "event=";
  line.append(event);
  for (const auto& [k, v] : fields) {
    line.push_back(' ');
    line.append(k);
    line.push_back('=');
    AppendValue(line, v);
  }
  line.push_back('\n');
  return line;
}

void WriteOut(std::string_view text) {
  while (!text.empty()) {
    ssize_t n = ::write(2, text.data(), text.size());
    if (n <= 0) return;
    text.remove_prefix(static_cast<size_t>(n));
  }
}

// Lines from LogEventBuffered wait in a buffer per thread, so that threads
// never contend for one lock (with hundreds of threads on one core, a shared
// log mutex made some requests wait for hundreds of milliseconds). A flusher
// thread collects the buffers every 200 ms; a thread whose buffer fills
// writes it out itself. Lines of different threads may be reordered by up to
// that interval.
class LogBuffers {
 public:
  void Add(const std::string& line) {
    thread_local std::shared_ptr<ThreadBuffer> mine = Register();
    std::string full;
    {
      std::lock_guard lock(mine->mu);
      mine->pending += line;
      if (mine->pending.size() < kMaxPending) return;
      full.swap(mine->pending);
    }
    WriteOut(full);
  }
  void FlushAll() {
    std::vector<std::shared_ptr<ThreadBuffer>> buffers;
    {
      std::lock_guard lock(registry_mu_);
      buffers = buffers_;
    }
    std::string out;
    for (auto& b : buffers) {
      std::lock_guard lock(b->mu);
      out += b->pending;
      b->pending.clear();
    }
    WriteOut(out);
  }

 private:
  struct ThreadBuffer {
    std::mutex mu;
    std::string pending;
  };
  std::shared_ptr<ThreadBuffer> Register() {
    auto b = std::make_shared<ThreadBuffer>();
    std::lock_guard lock(registry_mu_);
    buffers_.push_back(b);
    if (!flusher_started_) {
      flusher_started_ = true;
      std::thread([this] {
        while (true) {
          std::this_thread::sleep_for(std::chrono::milliseconds(200));
          FlushAll();
        }
      }).detach();
    }
    return b;
  }
  static constexpr size_t kMaxPending = 32 * 1024;
  std::mutex registry_mu_;
  std::vector<std::shared_ptr<ThreadBuffer>> buffers_;
  bool flusher_started_ = false;
};

// Never destroyed: the flusher thread may outlive main().
LogBuffers& Buffers() {
  static LogBuffers* buffers = new LogBuffers();
  return *buffers;
}

}  // namespace

void SetLogQuiet(bool quiet) { g_quiet = quiet; }

void FlushLog() { Buffers().FlushAll(); }

void LogEventBuffered(std::string_view event, std::initializer_list<LogField> fields) {
  if (g_quiet) return;
  Buffers().Add(FormatLine(event, fields));
}

void LogEvent(std::string_view event, std::initializer_list<LogField> fields) {
  if (g_quiet) return;
  FlushLog();  // what was buffered comes first
  WriteOut(FormatLine(event, fields));
}

}  // namespace relais::core
