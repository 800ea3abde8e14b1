// tests/support/pg_fixture.h — a real PostgreSQL server for tests and benchmarks.
//
// Starts Debian's PostgreSQL 15 (/usr/lib/postgresql/15/bin, or the bin
// directory in RELAIS_PG_BIN) on 127.0.0.1 and a free port, with its data and
// Unix socket in a fresh temporary directory and fsync off (a test server:
// durability is not under test, speed is welcome). As root, initdb and the
// server run as the `postgres` user, which owns the directory. Stop() or the
// destructor stops the server (immediate shutdown) and deletes the directory.
//
// Not thread-safe to start and stop; NewDatabase() may be called from any
// thread once started.
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

#include "core/status.h"

namespace relais::testing {

class PgServer {
 public:
  // Internal (with the end of the server's log) if the binaries are missing
  // or the server does not start within 30 s. `durable`: keep fsync and
  // synchronous commits on (for benchmarks comparable with SQLite's FULL).
  static Result<std::unique_ptr<PgServer>> Start(bool durable = false);
  ~PgServer();
  PgServer(const PgServer&) = delete;
  PgServer& operator=(const PgServer&) = delete;

  // Creates a new, empty database and returns a libpq URL for it.
  Result<std::string> NewDatabase();
  Status Stop();
  int port() const { return port_; }

  // One server shared by a whole test binary, started on first use and
  // stopped at exit. Fails the same way as Start().
  static Result<PgServer*> Shared();

 private:
  PgServer() = default;
  std::filesystem::path bin_;
  std::filesystem::path dir_;
  int port_ = 0;
  bool running_ = false;
  int next_db_ = 0;
  std::mutex mu_;
};

}  // namespace relais::testing
