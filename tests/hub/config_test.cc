#include "hub/config.h"

#include <doctest/doctest.h>

#include "tests/support/temp_dir.h"

using relais::Status;
using relais::StatusCode;
using relais::hub::Config;
using relais::testing::TempDir;

TEST_CASE("the gateway's configuration comes from the file, then RELAIS_HUB_* and RELAIS_* variables") {
  TempDir dir;
  Config c;
  REQUIRE(c.LoadFile(dir.Write("relais-hub.conf",
                               "listen = 0.0.0.0:8090\nhub_connections = 4\n"
                               "hub_enrol_code_days = 2\nhub_ent_key_file = /etc/ent.key\n"))
              .ok());
  CHECK(c.listen_port == 8090);
  CHECK(c.hub_connections == 4);
  CHECK(c.hub_enrol_code_ttl_s == 2 * 86400);
  CHECK(c.hub_ent_key_file == "/etc/ent.key");
  setenv("RELAIS_HUB_CONNECTIONS", "16", 1);
  setenv("RELAIS_HUB_POSTGRES", "postgresql://db/relais", 1);
  setenv("RELAIS_LISTEN", "127.0.0.1:9090", 1);
  setenv("RELAIS_SESSION_HOURS", "3", 1);  // the box's, in the same shell: ignored
  Status st = c.LoadEnvironment();
  unsetenv("RELAIS_HUB_CONNECTIONS");
  unsetenv("RELAIS_HUB_POSTGRES");
  unsetenv("RELAIS_LISTEN");
  unsetenv("RELAIS_SESSION_HOURS");
  REQUIRE(st.ok());
  CHECK(c.hub_connections == 16);
  CHECK(c.hub_postgres == "postgresql://db/relais");
  CHECK(c.listen_port == 9090);
  CHECK(c.Validate().ok());
  CHECK(c.Set("hub_connections", "0").message() == "hub_connections must be a whole number from 1 to 256, not '0'");
}

TEST_CASE("an unknown key in the gateway's file is an error naming it") {
  TempDir dir;
  Status st = Config().LoadFile(dir.Write("relais-hub.conf", "hub_colour = blue\n"));
  CHECK(st.code() == StatusCode::kInvalidArgument);
  CHECK(st.message().find("relais-hub.conf:1: unknown setting 'hub_colour'") != std::string::npos);
}

TEST_CASE("the gateway refuses a box's setting and says it is the box's") {
  TempDir dir;
  Status st = Config().LoadFile(dir.Write("relais-hub.conf", "listen = 127.0.0.1:8090\nsession_hours = 4\n"));
  CHECK(st.code() == StatusCode::kInvalidArgument);
  CHECK(st.message().find(":2: session_hours is a setting of the box (relais), not of the gateway") !=
        std::string::npos);
}
