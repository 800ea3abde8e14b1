// box/qr_svg.h — QR codes as SVG, for the printed login cards. The only
// includer of qrencode.h (Debian's libqrencode).
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace relais::box {

// An SVG image of the QR code for `text` (byte mode, error correction level
// M, which survives a crease or a smudge on paper), with the 4-module quiet
// zone the standard asks for. Black modules are one <path>; the image scales
// with its viewBox. InvalidArgument if `text` does not fit in a QR code.
Result<std::string> QrSvg(std::string_view text);

}  // namespace relais::box
