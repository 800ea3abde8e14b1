#include "content/text.h"

#include <algorithm>
#include <cctype>

namespace relais::content {
namespace {

// Length of the valid UTF-8 sequence at s[i], or 0 if invalid.
size_t Utf8Len(std::string_view s, size_t i) {
  auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) return 1;
  size_t n;
  uint32_t cp;
  if ((c & 0xE0) == 0xC0)
    n = 2, cp = c & 0x1F;
  else if ((c & 0xF0) == 0xE0)
    n = 3, cp = c & 0x0F;
  else if ((c & 0xF8) == 0xF0)
    n = 4, cp = c & 0x07;
  else
    return 0;
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3F);
  }
  if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF ||
      (cp >= 0xD800 && cp <= 0xDFFF))
    return 0;
  return n;
}

void AppendCodepoint(std::string& out, uint32_t cp) {
  if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

bool StartsWithNoCase(std::string_view s, size_t i, std::string_view prefix) {
  if (i + prefix.size() > s.size()) return false;
  for (size_t k = 0; k < prefix.size(); ++k)
    if (std::tolower(static_cast<unsigned char>(s[i + k])) != prefix[k]) return false;
  return true;
}

}  // namespace

std::string_view TrimSpace(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool IsValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    size_t n = Utf8Len(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string CleanText(std::string_view s, size_t max_bytes) {
  std::string out;
  out.reserve(std::min(s.size(), max_bytes));
  for (size_t i = 0; i < s.size();) {
    size_t n = Utf8Len(s, i);
    std::string_view piece;
    std::string repl;
    if (n == 0) {
      AppendCodepoint(repl, 0xFFFD);
      piece = repl;
      n = 1;
    } else {
      piece = s.substr(i, n);
      unsigned char c = static_cast<unsigned char>(s[i]);
      if (n == 1 && c == '\r') {
        if (i + 1 < s.size() && s[i + 1] == '\n') {
          i += 1;
          continue;
        }
        piece = "\n";
      } else if (n == 1 && (c < 0x20 || c == 0x7F) && c != '\n' && c != '\t') {
        i += 1;
        continue;
      }
    }
    if (out.size() + piece.size() > max_bytes) break;
    out.append(piece);
    i += n;
  }
  return out;
}

std::string StripMarkup(std::string_view s, size_t max_bytes) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    char c = s[i];
    if (c == '<') {
      if (StartsWithNoCase(s, i, "<!--")) {
        size_t end = s.find("-->", i + 4);
        i = end == std::string_view::npos ? s.size() : end + 3;
        continue;
      }
      bool is_tag = i + 1 < s.size() && (std::isalpha(static_cast<unsigned char>(s[i + 1])) || s[i + 1] == '/' ||
                                         s[i + 1] == '!' || s[i + 1] == '?');
      if (!is_tag) {  // "a < b" stays text
        out.push_back(c);
        ++i;
        continue;
      }
      for (std::string_view raw : {"<script", "<style"}) {
        if (StartsWithNoCase(s, i, raw)) {
          std::string close = "</" + std::string(raw.substr(1));
          size_t j = i;
          size_t found = std::string_view::npos;
          while ((j = s.find("</", j)) != std::string_view::npos) {
            if (StartsWithNoCase(s, j, close)) {
              found = j;
              break;
            }
            j += 2;
          }
          i = found == std::string_view::npos ? s.size() : found;
          break;
        }
      }
      if (i >= s.size()) break;
      bool block = StartsWithNoCase(s, i, "<br") || StartsWithNoCase(s, i, "</p") || StartsWithNoCase(s, i, "</div") ||
                   StartsWithNoCase(s, i, "</li") || StartsWithNoCase(s, i, "<li") || StartsWithNoCase(s, i, "</h");
      // Skip to the end of the tag, respecting quoted attribute values.
      char quote = 0;
      size_t j = i + 1;
      for (; j < s.size(); ++j) {
        if (quote) {
          if (s[j] == quote) quote = 0;
        } else if (s[j] == '"' || s[j] == '\'') {
          quote = s[j];
        } else if (s[j] == '>') {
          break;
        }
      }
      i = j < s.size() ? j + 1 : s.size();
      if (block && (out.empty() || out.back() != '\n')) out.push_back('\n');
      continue;
    }
    if (c == '&') {
      size_t semi = s.find(';', i);
      if (semi != std::string_view::npos && semi - i <= 10) {
        std::string_view ent = s.substr(i + 1, semi - i - 1);
        uint32_t cp = 0;
        if (ent == "amp")
          cp = '&';
        else if (ent == "lt")
          cp = '<';
        else if (ent == "gt")
          cp = '>';
        else if (ent == "quot")
          cp = '"';
        else if (ent == "apos" || ent == "#39")
          cp = '\'';
        else if (ent == "nbsp")
          cp = 0xA0;
        else if (ent.size() > 1 && ent[0] == '#') {
          bool hex = ent[1] == 'x' || ent[1] == 'X';
          std::string digits(ent.substr(hex ? 2 : 1));
          if (!digits.empty() &&
              digits.find_first_not_of(hex ? "0123456789abcdefABCDEF" : "0123456789") == std::string::npos)
            cp = static_cast<uint32_t>(std::stoul(digits, nullptr, hex ? 16 : 10) & 0x1FFFFF);
        }
        if (cp != 0) {
          AppendCodepoint(out, cp);
          i = semi + 1;
          continue;
        }
      }
    }
    out.push_back(c);
    ++i;
  }
  // Decoded entities may have produced "<": the result is text, and it is
  // escaped wherever it is shown, so that is fine.
  return CleanText(TrimSpace(out), max_bytes);
}

}  // namespace relais::content
