// tests/support/head_checks.h — the HEAD behaviour both programs share (the
// router, http/router.h), checked the same way on each (tests/box/api_test.cc,
// tests/hub/hub_api_test.cc).
#pragma once

#include <doctest/doctest.h>
#include <httplib.h>

#include <string>

namespace relais::testing {

// On the server `client` reaches: HEAD on the GET route `get_path` answers
// the GET's status, Content-Type and Content-Length without a body; HEAD on
// an unknown path is the 404 a GET gets, without its body; HEAD on
// `post_only_path` (a path served by POST alone) is a 405 whose Allow header
// is `allow`.
inline void CheckHeadIsGetWithoutBody(httplib::Client& client, const std::string& get_path,
                                      const std::string& post_only_path, const std::string& allow) {
  auto get = client.Get(get_path);
  auto head = client.Head(get_path);
  REQUIRE(get);
  REQUIRE(head);
  CHECK(head->status == get->status);
  CHECK(head->body.empty());
  CHECK(head->get_header_value("Content-Type") == get->get_header_value("Content-Type"));
  CHECK(head->get_header_value("Content-Length") == std::to_string(get->body.size()));

  auto get_unknown = client.Get("/no/such/path");
  auto head_unknown = client.Head("/no/such/path");
  REQUIRE(get_unknown);
  REQUIRE(head_unknown);
  CHECK(get_unknown->status == 404);
  CHECK(head_unknown->status == 404);
  CHECK(head_unknown->body.empty());
  CHECK(head_unknown->get_header_value("Content-Length") == std::to_string(get_unknown->body.size()));

  auto head_post = client.Head(post_only_path);
  REQUIRE(head_post);
  CHECK(head_post->status == 405);
  CHECK(head_post->get_header_value("Allow") == allow);
  CHECK(head_post->body.empty());
}

}  // namespace relais::testing
