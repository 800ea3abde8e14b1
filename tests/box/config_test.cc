#include "box/config.h"

#include <doctest/doctest.h>

#include "tests/support/temp_dir.h"

using relais::Status;
using relais::StatusCode;
using relais::box::Config;
using relais::testing::TempDir;

TEST_CASE("the box's configuration comes from the file, then the environment, and bad values are named") {
  TempDir dir;
  Config c;
  REQUIRE(c.LoadFile(dir.Write("relais.conf",
                               "# comment\nlisten = 0.0.0.0:9000\nmax_upload_mb = 50\n"
                               "session_hours = 2\n"))
              .ok());
  CHECK(c.listen_host == "0.0.0.0");
  CHECK(c.listen_port == 9000);
  CHECK(c.max_upload_bytes == 50ull << 20);
  CHECK(c.session_ttl_s == 2 * 3600);
  setenv("RELAIS_MAX_UPLOAD_MB", "10", 1);
  setenv("RELAIS_SESSION_HOURS", "3", 1);
  setenv("RELAIS_HUB_POSTGRES", "postgresql://elsewhere", 1);  // the gateway's, in the same shell: ignored
  Status st = c.LoadEnvironment();
  unsetenv("RELAIS_MAX_UPLOAD_MB");
  unsetenv("RELAIS_SESSION_HOURS");
  unsetenv("RELAIS_HUB_POSTGRES");
  REQUIRE(st.ok());
  CHECK(c.max_upload_bytes == 10ull << 20);
  CHECK(c.session_ttl_s == 3 * 3600);
  CHECK(c.Set("listen", "nowhere").code() == StatusCode::kInvalidArgument);
  CHECK(c.Set("listen", "127.0.0.1:99999").code() == StatusCode::kInvalidArgument);
  CHECK(c.Set("https_redirect", "sometimes").code() == StatusCode::kInvalidArgument);
  st = Config().LoadFile(dir.Write("bad.conf", "listen 8080\n"));
  CHECK(st.message().find(":1:") != std::string::npos);
}

TEST_CASE("an unknown key in the box's file is an error naming it") {
  TempDir dir;
  Status st = Config().LoadFile(dir.Write("relais.conf", "listen = 127.0.0.1:8080\ncolour = blue\n"));
  CHECK(st.code() == StatusCode::kInvalidArgument);
  CHECK(st.message().find("relais.conf:2: unknown setting 'colour'") != std::string::npos);
}

TEST_CASE("the box refuses a gateway's setting and says it is the gateway's") {
  TempDir dir;
  Status st = Config().LoadFile(dir.Write("relais.conf", "hub_postgres = postgresql://db/relais\n"));
  CHECK(st.code() == StatusCode::kInvalidArgument);
  CHECK(st.message().find("hub_postgres is a setting of the gateway (relais-hub), not of the box") !=
        std::string::npos);
}

TEST_CASE("weaker password hashing than 19 MiB and 2 passes is refused at start-up") {
  Config c;
  CHECK(c.Validate().ok());
  c.password_mem_kib = 8 * 1024;
  CHECK_FALSE(c.Validate().ok());
}

TEST_CASE("the box's certificate and key go together, and HTTPS may not take the plain listen address") {
  Config c;
  c.tls_cert = "server.crt";
  CHECK(c.Validate().message() == "tls_cert and tls_key go together: set both or neither");
  c.tls_key = "server.key";
  CHECK(c.Validate().ok());
  REQUIRE(c.Set("https_listen", "127.0.0.1:8080").ok());
  CHECK(c.Validate().message() == "https_listen and listen are the same address");
}
