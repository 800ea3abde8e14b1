// The two programs' settings, side by side: each refuses the other's keys by
// name (hub/config.cc keeps its own copy of the box's keys, since the gateway
// cannot include box/; this keeps that copy in step).
#include <doctest/doctest.h>

#include <string>

#include "box/config.h"
#include "hub/config.h"

using namespace relais;

TEST_CASE("every box setting is refused by the gateway as the box's, and every gateway setting by the box") {
  for (std::string_view key : box::Config::OwnKeys()) {
    CAPTURE(key);
    CHECK(hub::Config().Set(key, "1").message().find("is a setting of the box") != std::string::npos);
    CHECK_FALSE(http::ServerSettings::IsKey(key));
  }
  for (std::string_view key : hub::Config::OwnKeys()) {
    CAPTURE(key);
    CHECK(box::Config().Set(key, "1").message().find("is a setting of the gateway") != std::string::npos);
    CHECK_FALSE(http::ServerSettings::IsKey(key));
  }
}
