#include "box/qr_svg.h"

#include <qrencode.h>

#include <memory>

namespace relais::box {

Result<std::string> QrSvg(std::string_view text) {
  std::string input(text);  // QRcode_encodeString wants a NUL-terminated string
  if (input.find('\0') != std::string::npos) return Status::InvalidArgument("a QR code's text cannot hold NUL");
  std::unique_ptr<QRcode, void (*)(QRcode*)> code(QRcode_encodeString(input.c_str(), 0, QR_ECLEVEL_M, QR_MODE_8, 1),
                                                  QRcode_free);
  if (!code) return Status::InvalidArgument("the text is too long for a QR code");
  constexpr int kQuiet = 4;
  const int width = code->width;
  const int side = width + 2 * kQuiet;
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " + std::to_string(side) + " " +
                    std::to_string(side) + "\" shape-rendering=\"crispEdges\">";
  svg += "<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/><path fill=\"#000\" d=\"";
  // One horizontal run of dark modules per "M x y h n v1 h -n z".
  for (int y = 0; y < width; ++y) {
    for (int x = 0; x < width;) {
      if (!(code->data[y * width + x] & 1)) {
        ++x;
        continue;
      }
      int run = 1;
      while (x + run < width && (code->data[y * width + x + run] & 1)) ++run;
      svg += "M" + std::to_string(x + kQuiet) + " " + std::to_string(y + kQuiet) + "h" + std::to_string(run) + "v1h-" +
             std::to_string(run) + "z";
      x += run;
    }
  }
  svg += "\"/></svg>";
  return svg;
}

}  // namespace relais::box
