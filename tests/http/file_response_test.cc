#include "http/file_response.h"

#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "core/clock.h"
#include "core/crypto.h"
#include "tests/support/wait.h"

namespace relais::http {
namespace {

namespace fs = std::filesystem;

struct RangeCase {
  const char* header;
  uint64_t size;
  RangeOutcome outcome;
  uint64_t first;
  uint64_t last;
};

// A file in a temporary folder, removed at the end of the test.
class TempFile {
 public:
  explicit TempFile(const std::string& content)
      : dir_(fs::temp_directory_path() / ("relais-serve-" + core::RandomToken(8))) {
    fs::create_directories(dir_);
    path_ = dir_ / "blob";
    std::ofstream out(path_, std::ios::binary);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
  }
  ~TempFile() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string path() const { return path_.string(); }

 private:
  fs::path dir_;
  fs::path path_;
};

// A real cpp-httplib server on 127.0.0.1, port chosen by the kernel, serving
// `files[i]` at "/f/i" through ServeFile.
class TestServer {
 public:
  explicit TestServer(std::vector<StoredFile> files) : files_(std::move(files)) {
    server_.Get(R"(/f/(\d+))", [this](const httplib::Request& req, httplib::Response& res) {
      size_t i = std::stoul(req.matches[1]);
      ServeFile(req, res, files_.at(i));
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    REQUIRE_MESSAGE(testing::WaitUntil([this] { return server_.is_running(); }), "the test server never started");
  }
  ~TestServer() {
    server_.stop();
    thread_.join();
  }
  int port() const { return port_; }

 private:
  std::vector<StoredFile> files_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

std::string RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(rng() & 0xFF);
  return s;
}

}  // namespace

TEST_CASE("ParseRange interprets single byte ranges and refuses the rest") {
  const RangeCase cases[] = {
      {"", 100, RangeOutcome::kWhole, 0, 0},
      {"bytes=0-0", 100, RangeOutcome::kPartial, 0, 0},
      {"bytes=0-", 100, RangeOutcome::kPartial, 0, 99},
      {"bytes=10-19", 100, RangeOutcome::kPartial, 10, 19},
      {"bytes=-1", 100, RangeOutcome::kPartial, 99, 99},
      {"bytes=-100", 100, RangeOutcome::kPartial, 0, 99},
      {"bytes=-500", 100, RangeOutcome::kPartial, 0, 99},  // longer suffix: the whole file
      {"bytes=-0", 100, RangeOutcome::kUnsatisfiable, 0, 0},
      {"bytes=5-2", 100, RangeOutcome::kWhole, 0, 0},  // malformed: ignored
      {"bytes=100-", 100, RangeOutcome::kUnsatisfiable, 0, 0},
      {"bytes=100-200", 100, RangeOutcome::kUnsatisfiable, 0, 0},
      {"bytes=99-", 100, RangeOutcome::kPartial, 99, 99},
      {"bytes=50-1000", 100, RangeOutcome::kPartial, 50, 99},  // last beyond the end clamps
      {"bytes=0-18446744073709551615", 100, RangeOutcome::kPartial, 0, 99},
      {"bytes=0-99999999999999999999999", 100, RangeOutcome::kPartial, 0, 99},  // saturates
      {"bytes=99999999999999999999999-", 100, RangeOutcome::kUnsatisfiable, 0, 0},
      {"bytes=0-1,5-6", 100, RangeOutcome::kWhole, 0, 0},  // several ranges: whole file
      {"bytes=0-1, 5-6", 100, RangeOutcome::kWhole, 0, 0},
      {"items=0-1", 100, RangeOutcome::kWhole, 0, 0},
      {"bytes 0-1", 100, RangeOutcome::kWhole, 0, 0},
      {"bytes=", 100, RangeOutcome::kWhole, 0, 0},
      {"bytes=-", 100, RangeOutcome::kWhole, 0, 0},
      {"bytes=a-b", 100, RangeOutcome::kWhole, 0, 0},
      {"bytes=1-2-3", 100, RangeOutcome::kWhole, 0, 0},
      {"bytes=+1-2", 100, RangeOutcome::kWhole, 0, 0},
      {"  bytes=3-4  ", 100, RangeOutcome::kPartial, 3, 4},
      {"Bytes = 3-4", 100, RangeOutcome::kPartial, 3, 4},
      {"bytes=\t3-4", 100, RangeOutcome::kPartial, 3, 4},
      {"bytes=0-0", 0, RangeOutcome::kUnsatisfiable, 0, 0},  // nothing is satisfiable in an empty file
      {"bytes=0-", 0, RangeOutcome::kUnsatisfiable, 0, 0},
      {"bytes=-5", 0, RangeOutcome::kUnsatisfiable, 0, 0},
      {"bytes=-5", 3, RangeOutcome::kPartial, 0, 2},
  };
  for (const RangeCase& c : cases) {
    CAPTURE(c.header);
    CAPTURE(c.size);
    ByteRange r{12345, 12345};
    RangeOutcome outcome = ParseRange(c.header, c.size, &r);
    CHECK(outcome == c.outcome);
    if (outcome == RangeOutcome::kPartial) {
      CHECK(r.first == c.first);
      CHECK(r.last == c.last);
    }
  }
}

TEST_CASE("Content-Disposition carries an ASCII fallback and the UTF-8 name") {
  CHECK(ContentDisposition("report.pdf", false) == "inline; filename=\"report.pdf\"; filename*=UTF-8''report.pdf");
  CHECK(ContentDisposition("report.pdf", true) == "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf");
  CHECK(ContentDisposition("résumé.pdf", false) ==
        "inline; filename=\"r_sum_.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf");
  CHECK(ContentDisposition("my file (1).txt", true) ==
        "attachment; filename=\"my file (1).txt\"; filename*=UTF-8''my%20file%20%281%29.txt");
  // Quotes, backslashes and line breaks cannot break out of the header.
  CHECK(ContentDisposition("a\"b\\c\r\nSet-Cookie: x=1.txt", true) ==
        "attachment; filename=\"abcSet-Cookie: x=1.txt\"; filename*=UTF-8''a%22b%5CcSet-Cookie%3A%20x%3D1.txt");
  CHECK(ContentDisposition("100%.txt", false) == "inline; filename=\"100_.txt\"; filename*=UTF-8''100%25.txt");
  CHECK(ContentDisposition("日本.txt", false) ==
        "inline; filename=\"__.txt\"; filename*=UTF-8''%E6%97%A5%E6%9C%AC.txt");
  CHECK(ContentDisposition("\"\"", false) == "inline; filename=\"file\"; filename*=UTF-8''%22%22");
  CHECK(ContentDisposition("", false) == "inline");
  CHECK(ContentDisposition("", true) == "attachment");
}

TEST_CASE("ServeFile answers whole, partial, conditional and unsatisfiable requests over real HTTP") {
  const std::string data = RandomBytes(1'000'003, 7);  // ~1 MB, not a multiple of 64 KiB
  const std::string size = std::to_string(data.size());
  TempFile blob(data);
  const std::string html_text = "<!doctype html><script>alert(1)</script>";
  TempFile html(html_text);
  TempFile empty("");
  const int64_t mtime = 1790000000;
  const std::string etag = std::string(64, 'a');

  StoredFile pdf{blob.path(), data.size(), etag, mtime, "application/pdf", "cours de français.pdf", true};
  StoredFile page{html.path(), html_text.size(), std::string(64, 'b'), mtime, "text/html", "page.html", true, true};
  StoredFile nothing{empty.path(), 0, std::string(64, 'c'), mtime, "text/plain", "vide.txt", true};
  StoredFile missing{blob.path() + ".gone", 10, std::string(64, 'd'), mtime, "image/png", "x.png", true};
  TestServer server({pdf, page, nothing, missing});
  httplib::Client cli("127.0.0.1", server.port());

  SUBCASE("a plain GET returns the whole file with validators") {
    auto r = cli.Get("/f/0");
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->body == data);
    CHECK(r->get_header_value("Content-Length") == size);
    CHECK(r->get_header_value("Content-Type") == "application/pdf");
    CHECK(r->get_header_value("Accept-Ranges") == "bytes");
    CHECK(r->get_header_value("ETag") == "\"" + etag + "\"");
    CHECK(r->get_header_value("Last-Modified") == core::FormatHttpDate(mtime));
    CHECK(r->get_header_value("Cache-Control") == "private, no-cache");
    CHECK(r->get_header_value("X-Content-Type-Options") == "nosniff");
    // cpp-httplib 0.11 percent-decodes every header value it parses, so the
    // client sees filename* decoded; the exact encoding is tested above.
    CHECK(r->get_header_value("Content-Disposition") ==
          "inline; filename=\"cours de fran_ais.pdf\"; filename*=UTF-8''cours de français.pdf");
    CHECK_FALSE(r->has_header("Content-Range"));
    CHECK_FALSE(r->has_header("Content-Security-Policy"));
  }

  SUBCASE("a byte range returns exactly those bytes with 206") {
    struct Case {
      std::string range;
      size_t first;
      size_t last;
    };
    const Case cases[] = {
        {"bytes=0-0", 0, 0},
        {"bytes=0-99", 0, 99},
        {"bytes=65530-200000", 65530, 200000},               // crosses 64 KiB reads
        {"bytes=1000-", 1000, data.size() - 1},              // open-ended
        {"bytes=-500", data.size() - 500, data.size() - 1},  // suffix
        {"bytes=999000-99999999", 999000, data.size() - 1},  // last beyond the end
    };
    for (const Case& c : cases) {
      CAPTURE(c.range);
      auto r = cli.Get("/f/0", {{"Range", c.range}});
      REQUIRE(r);
      CHECK(r->status == 206);
      CHECK(r->body == data.substr(c.first, c.last - c.first + 1));
      CHECK(r->get_header_value("Content-Range") ==
            "bytes " + std::to_string(c.first) + "-" + std::to_string(c.last) + "/" + size);
      CHECK(r->get_header_value("Content-Length") == std::to_string(c.last - c.first + 1));
    }
  }

  SUBCASE("several ranges are answered with the whole file") {
    auto r = cli.Get("/f/0", {{"Range", "bytes=0-1,5-6"}});
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->body == data);
    CHECK_FALSE(r->has_header("Content-Range"));
  }

  SUBCASE("a range starting past the end is 416 with the size") {
    auto r = cli.Get("/f/0", {{"Range", "bytes=" + size + "-"}});
    REQUIRE(r);
    CHECK(r->status == 416);
    CHECK(r->get_header_value("Content-Range") == "bytes */" + size);
    CHECK(r->get_header_value("Content-Type") == "application/json");
    CHECK(r->body.find("\"code\":\"range_not_satisfiable\"") != std::string::npos);
    auto zero = cli.Get("/f/0", {{"Range", "bytes=-0"}});
    REQUIRE(zero);
    CHECK(zero->status == 416);
  }

  SUBCASE("a matching If-None-Match is 304 without a body") {
    for (std::string value :
         {"\"" + etag + "\"", "W/\"" + etag + "\"", "\"other\", \"" + etag + "\"", std::string("*")}) {
      CAPTURE(value);
      auto r = cli.Get("/f/0", {{"If-None-Match", value}});
      REQUIRE(r);
      CHECK(r->status == 304);
      CHECK(r->body.empty());
      CHECK(r->get_header_value("ETag") == "\"" + etag + "\"");
    }
    auto other = cli.Get("/f/0", {{"If-None-Match", "\"other\""}});
    REQUIRE(other);
    CHECK(other->status == 200);
    CHECK(other->body == data);
  }

  SUBCASE("If-Modified-Since is honoured only without If-None-Match") {
    auto same = cli.Get("/f/0", {{"If-Modified-Since", core::FormatHttpDate(mtime)}});
    REQUIRE(same);
    CHECK(same->status == 304);
    auto older = cli.Get("/f/0", {{"If-Modified-Since", core::FormatHttpDate(mtime - 1)}});
    REQUIRE(older);
    CHECK(older->status == 200);
    auto both = cli.Get("/f/0", {{"If-None-Match", "\"other\""}, {"If-Modified-Since", core::FormatHttpDate(mtime)}});
    REQUIRE(both);
    CHECK(both->status == 200);
  }

  SUBCASE("If-Range applies the range only while the validator matches") {
    auto match = cli.Get("/f/0", {{"Range", "bytes=10-19"}, {"If-Range", "\"" + etag + "\""}});
    REQUIRE(match);
    CHECK(match->status == 206);
    CHECK(match->body == data.substr(10, 10));
    auto by_date = cli.Get("/f/0", {{"Range", "bytes=10-19"}, {"If-Range", core::FormatHttpDate(mtime)}});
    REQUIRE(by_date);
    CHECK(by_date->status == 206);
    for (std::string value :
         {std::string("\"changed\""), "W/\"" + etag + "\"", core::FormatHttpDate(mtime - 60), std::string("garbage")}) {
      CAPTURE(value);
      auto r = cli.Get("/f/0", {{"Range", "bytes=10-19"}, {"If-Range", value}});
      REQUIRE(r);
      CHECK(r->status == 200);
      CHECK(r->body == data);
    }
  }

  SUBCASE("HTML is served as an inert attachment") {
    auto r = cli.Get("/f/1");
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->body == html_text);
    CHECK(r->get_header_value("Content-Type") == "application/octet-stream");
    CHECK(r->get_header_value("Content-Disposition") ==
          "attachment; filename=\"page.html\"; filename*=UTF-8''page.html");
    CHECK(r->get_header_value("Content-Security-Policy").find("sandbox") != std::string::npos);
    CHECK(r->get_header_value("X-Content-Type-Options") == "nosniff");
  }

  SUBCASE("HEAD gives the length and headers without a body, and the connection stays usable") {
    cli.set_keep_alive(true);
    auto head = cli.Head("/f/0");
    REQUIRE(head);
    CHECK(head->status == 200);
    CHECK(head->get_header_value("Content-Length") == size);
    CHECK(head->get_header_value("ETag") == "\"" + etag + "\"");
    CHECK(head->body.empty());
    // Had the server written the body after the HEAD headers, this response
    // on the same connection would be garbage.
    auto get = cli.Get("/f/0", {{"Range", "bytes=0-9"}});
    REQUIRE(get);
    CHECK(get->status == 206);
    CHECK(get->body == data.substr(0, 10));
  }

  SUBCASE("an empty file is 200 with no body, and any range on it is unsatisfiable") {
    auto r = cli.Get("/f/2");
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->body.empty());
    CHECK(r->get_header_value("Content-Length") == "0");
    auto ranged = cli.Get("/f/2", {{"Range", "bytes=0-"}});
    REQUIRE(ranged);
    CHECK(ranged->status == 416);
    CHECK(ranged->get_header_value("Content-Range") == "bytes */0");
  }

  SUBCASE("a file missing from the disk (its bytes not synced yet) is a 503 saying so, not a truncated 200") {
    auto r = cli.Get("/f/3");
    REQUIRE(r);
    CHECK(r->status == 503);
    CHECK(r->body.find("not_synced_yet") != std::string::npos);
    CHECK(r->get_header_value("Retry-After") == "600");
    CHECK(r->get_header_value("ETag").empty());
  }
}

}  // namespace relais::http
