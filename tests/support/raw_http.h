// tests/support/raw_http.h — bytes on a socket, for requests an HTTP client
// library would not send (both programs' tests use it).
#pragma once

#include <string>

namespace relais::testing {

// Sends `bytes` as they are on a new connection and returns what comes back,
// up to the end of the first response (by its Content-Length), the server
// closing the connection, or `timeout_ms` of silence. For requests an HTTP
// client library would not send: headers without their body, hand-made chunks.
std::string RawExchange(int port, const std::string& bytes, int timeout_ms = 3000);

// `body` in HTTP/1.1 chunked encoding, `chunk` bytes per chunk.
std::string Chunked(const std::string& body, size_t chunk = 1000);

}  // namespace relais::testing
