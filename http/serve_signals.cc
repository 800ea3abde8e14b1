#include "http/serve_signals.h"

#include <pthread.h>

#include <algorithm>
#include <thread>

#include "core/log.h"

namespace relais::http {

sigset_t BlockStopSignals() {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  return stop_signals;
}

void StopOnSignal(EventServer& http, sigset_t signals, std::function<void()> on_stop) {
  std::thread waiter([&http, signals, on_stop = std::move(on_stop)] {
    int sig = 0;
    sigwait(&signals, &sig);
    core::LogEvent("server.stop", {{"signal", std::to_string(sig)}});
    if (on_stop) on_stop();
    http.Stop();
  });
  waiter.detach();
}

EventServer::Options TransportOptions(const ServerSettings& settings) {
  EventServer::Options options;
  options.min_workers = std::max(4, 2 * static_cast<int>(std::thread::hardware_concurrency()));
  options.max_workers = std::max(options.min_workers, settings.http_threads);
  options.keep_alive_timeout_s = settings.keep_alive_timeout_s;
  return options;
}

}  // namespace relais::http
