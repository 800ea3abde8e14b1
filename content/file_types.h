// content/file_types.h — which files the box accepts, recognised by content.
//
// A declared Content-Type is only believed when the bytes agree: a "PDF" must
// start with %PDF-, a JPEG with FF D8 FF, and so on. Types that are active in
// a browser (HTML, SVG, XML, JavaScript) are accepted but always served inert
// (see IsActiveContent).
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace relais::content {

// Returns the MIME type the bytes `head` (the first bytes of the file, up to
// 4 KiB, possibly all of it) show, or "" when they show nothing recognisable.
std::string SniffContentType(std::string_view head);

// Decides the type to store for an upload named `filename`, declared as
// `declared` (may be empty or "application/octet-stream"), whose first bytes
// are `head` and whose total size is `size`.
//  * If the content is recognised and the declared type contradicts it:
//    UnsupportedType ("the file is not a PDF").
//  * If the type (declared or sniffed or from the extension) is not on the
//    accepted list (documents, images, audio, video, office/zip formats, plain
//    text, HTML/SVG): UnsupportedType.
//  * Text types require valid UTF-8 without NUL bytes in `head`.
// Returns the normalised MIME type (lower case, no parameters) on success.
Result<std::string> CheckUpload(std::string_view filename, std::string_view declared, std::string_view head,
                                uint64_t size);

// True for types a browser would execute or render with scripts (text/html,
// image/svg+xml, application/xhtml+xml, text/xml, application/xml,
// text/javascript, …): these are served as downloads, never inline.
bool IsActiveContent(std::string_view content_type);

}  // namespace relais::content
