// The login cards' QR codes: drawn as SVG by box/qr_svg.cc, then rasterised
// here and read back with ZBar, as the tablet's camera app would read them.
#include "box/qr_svg.h"

#include <doctest/doctest.h>
#include <zbar.h>

#include <regex>
#include <string>
#include <vector>

namespace relais::box {

namespace {

// Paints the SVG's runs ("M x y h n v1 h -n z") at `scale` pixels per module
// on white, and returns what ZBar reads from it ("" when it finds no QR code).
std::string Decode(const std::string& svg, int scale = 4) {
  std::smatch box;
  REQUIRE(std::regex_search(svg, box, std::regex(R"re(viewBox="0 0 (\d+) (\d+)")re")));
  int side = std::stoi(box[1]);
  REQUIRE(side == std::stoi(box[2]));
  int px = side * scale;
  std::vector<unsigned char> pixels(static_cast<size_t>(px) * px, 255);
  std::regex run(R"re(M(\d+) (\d+)h(\d+)v1h-(\d+)z)re");
  int runs = 0;
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), run); it != std::sregex_iterator(); ++it, ++runs) {
    int x = std::stoi((*it)[1]), y = std::stoi((*it)[2]), n = std::stoi((*it)[3]);
    CHECK(n == std::stoi((*it)[4]));
    REQUIRE(x + n <= side);
    REQUIRE(y < side);
    for (int yy = y * scale; yy < (y + 1) * scale; ++yy)
      for (int xx = x * scale; xx < (x + n) * scale; ++xx) pixels[static_cast<size_t>(yy) * px + xx] = 0;
  }
  REQUIRE(runs > 0);
  using namespace zbar;  // zbar.h puts its C API in a namespace when compiled as C++
  zbar_image_scanner_t* scanner = zbar_image_scanner_create();
  zbar_image_scanner_set_config(scanner, ZBAR_NONE, ZBAR_CFG_ENABLE, 0);
  zbar_image_scanner_set_config(scanner, ZBAR_QRCODE, ZBAR_CFG_ENABLE, 1);
  zbar_image_t* image = zbar_image_create();
  zbar_image_set_format(image, zbar_fourcc('Y', '8', '0', '0'));
  zbar_image_set_size(image, px, px);
  zbar_image_set_data(image, pixels.data(), pixels.size(), nullptr);
  std::string text;
  if (zbar_scan_image(scanner, image) > 0) {
    const zbar_symbol_t* symbol = zbar_image_first_symbol(image);
    if (zbar_symbol_get_type(symbol) == ZBAR_QRCODE)
      text.assign(zbar_symbol_get_data(symbol), zbar_symbol_get_data_length(symbol));
  }
  zbar_image_destroy(image);
  zbar_image_scanner_destroy(scanner);
  return text;
}

TEST_CASE("a login card's QR code reads back as its URL") {
  const std::string urls[] = {"http://10.42.0.1/c/q5Y0cX1Hn3m1M6qBf0lZ6w",
                              "http://relais.local:8080/c/AbC-_0123456789xyzXYZ_-",
                              "https://" + std::string(200, 'a') + ".example/c/x"};
  for (const std::string& url : urls) {
    auto svg = QrSvg(url);
    REQUIRE(svg.ok());
    CHECK(Decode(*svg) == url);
  }
}

TEST_CASE("a card URL gives a small QR code with its quiet zone") {
  auto svg = QrSvg("http://10.42.0.1/c/q5Y0cX1Hn3m1M6qBf0lZ6w");
  REQUIRE(svg.ok());
  // Version 3 at level M (29 modules) plus 4 modules of quiet zone on each side.
  CHECK(svg->find("viewBox=\"0 0 37 37\"") != std::string::npos);
  CHECK(svg->find("M0 ") == std::string::npos);     // nothing drawn in the quiet zone
  CHECK(svg->find("M4 4h7") != std::string::npos);  // the top-left finder pattern
}

TEST_CASE("text too long for a QR code is refused") {
  CHECK(QrSvg(std::string(2300, 'a')).ok());
  auto too_long = QrSvg(std::string(3000, 'a'));
  CHECK(!too_long.ok());
  CHECK(too_long.status().code() == StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace relais::box
