// content/text.h — cleaning text that users type.
//
// Relais stores plain text. Markup in homework instructions, comments and
// hand-ins is removed on the way in (StripMarkup); the web app escapes
// everything it displays, so nothing a user types can run in another user's
// browser.
#pragma once

#include <string>
#include <string_view>

namespace relais::content {

std::string_view TrimSpace(std::string_view s);
bool IsValidUtf8(std::string_view s);
// Drops control characters other than \n and \t, normalises \r\n to \n,
// replaces invalid UTF-8 with U+FFFD, and cuts to at most `max_bytes`
// (on a character boundary).
std::string CleanText(std::string_view s, size_t max_bytes);
// Removes HTML/XML tags, comments, and the content of <script> and <style>
// elements; turns <br> and block ends into line breaks; decodes the five
// basic entities and numeric ones. Then CleanText.
std::string StripMarkup(std::string_view s, size_t max_bytes);

}  // namespace relais::content
