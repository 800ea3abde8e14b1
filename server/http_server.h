// server/http_server.h — cpp-httplib tuned for a class of tablets.
//
// cpp-httplib 0.11's defaults (8 threads, TCP_NODELAY off, 5 requests per
// keep-alive connection, a listen backlog of 5) serve about 270 requests/s
// to 32 keep-alive clients. Here: a thread pool larger than the expected
// number of connections (each keep-alive connection holds a thread), Nagle
// off, unlimited keep-alive, and a deep backlog (set again with listen(2) on
// the bound socket, since Debian's shared library fixes the constant at 5).
#pragma once

#include <httplib.h>

#include <memory>
#include <string>

#include "core/config.h"
#include "core/status.h"

namespace relais::server {

// Applies the tuning above to `server`.
void Tune(httplib::Server& server, const core::Config& config);

// Binds `host:port` (port 0 picks a free one) with a deep backlog and returns
// the bound port. Call server.listen_after_bind() afterwards to serve.
Result<int> Bind(httplib::Server& server, const std::string& host, int port);

}  // namespace relais::server
