// http/serve_signals.h — what both servers (`relais serve`, `relais-hub serve`)
// do around their event loop: stop cleanly on SIGINT/SIGTERM, and size the
// transport from the settings.
#pragma once

#include <signal.h>

#include <functional>

#include "http/event_server.h"
#include "http/server_settings.h"

namespace relais::http {

// Blocks SIGINT and SIGTERM in the calling thread (call before starting any
// thread) and returns them, for StopOnSignal. (SIGPIPE is ignored by the
// EventServer itself, which every server constructs before its threads.)
sigset_t BlockStopSignals();
// Starts a thread that waits for one of `signals`, logs it, calls `on_stop`
// and stops `http`, which must outlive the process's serving.
void StopOnSignal(EventServer& http, sigset_t signals, std::function<void()> on_stop = {});
// The transport's worker pool and timeouts from the settings (box::Config and hub::Config are ServerSettings).
EventServer::Options TransportOptions(const ServerSettings& settings);

}  // namespace relais::http
