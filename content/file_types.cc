// content/file_types.cc — recognising uploads by their bytes.
//
// Decision order in CheckUpload (first match wins):
//   1. an executable extension (.exe, .bat, .sh, …) or executable bytes
//      (MZ, ELF, Mach-O, "#!")                      -> UnsupportedType
//   2. an empty file                                  -> text/plain, or rejected
//      when declared as anything but text
//   3. a declared type (normalised; empty and application/octet-stream count
//      as no declaration) must belong to the same family as the sniffed
//      type; a binary type with magic bytes must be sniffed as such
//   4. the type is the declared one, else the sniffed one, else the one the
//      extension names; generic containers (zip, OLE2, ISO-BMFF, Ogg) are
//      refined by the extension when it names a member of the same family
//   5. the type must be on the accepted list; text types must be UTF-8
//      without NUL bytes in `head`.

#include "content/file_types.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>

namespace relais::content {
namespace {

constexpr std::string_view kOctetStream = "application/octet-stream";
constexpr std::string_view kZip = "application/zip";
constexpr std::string_view kDocx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
constexpr std::string_view kXlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
constexpr std::string_view kPptx = "application/vnd.openxmlformats-officedocument.presentationml.presentation";
constexpr std::string_view kOdt = "application/vnd.oasis.opendocument.text";
constexpr std::string_view kOds = "application/vnd.oasis.opendocument.spreadsheet";
constexpr std::string_view kOdp = "application/vnd.oasis.opendocument.presentation";
constexpr std::string_view kEpub = "application/epub+zip";

// Types that executable bytes sniff as; never accepted.
constexpr std::string_view kExeWindows = "application/x-msdownload";
constexpr std::string_view kExeElf = "application/x-executable";
constexpr std::string_view kExeMachO = "application/x-mach-binary";
constexpr std::string_view kExeScript = "text/x-shellscript";

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

bool StartsWithNoCase(std::string_view s, std::string_view lower_prefix) {
  if (s.size() < lower_prefix.size()) return false;
  for (size_t i = 0; i < lower_prefix.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != lower_prefix[i]) return false;
  }
  return true;
}

bool Contains(std::string_view s, std::string_view needle) { return s.find(needle) != std::string_view::npos; }

uint8_t Byte(std::string_view s, size_t i) { return static_cast<uint8_t>(s[i]); }

uint32_t Le32(std::string_view s, size_t i) {
  return static_cast<uint32_t>(Byte(s, i)) | static_cast<uint32_t>(Byte(s, i + 1)) << 8 |
         static_cast<uint32_t>(Byte(s, i + 2)) << 16 | static_cast<uint32_t>(Byte(s, i + 3)) << 24;
}

uint16_t Le16(std::string_view s, size_t i) { return static_cast<uint16_t>(Byte(s, i) | Byte(s, i + 1) << 8); }

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

std::string_view SkipWhitespaceAndBom(std::string_view s) {
  if (StartsWith(s, "\xEF\xBB\xBF")) s.remove_prefix(3);
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  return s;
}

// ISO base media file format (MP4, MOV, M4A, HEIF): "....ftyp<brand>".
std::string SniffIsoBmff(std::string_view head) {
  std::string_view major = head.substr(8, 4);
  // Compatible brands follow the minor version, up to the box size.
  uint32_t box = static_cast<uint32_t>(Byte(head, 0)) << 24 | static_cast<uint32_t>(Byte(head, 1)) << 16 |
                 static_cast<uint32_t>(Byte(head, 2)) << 8 | Byte(head, 3);
  std::string_view compatible;
  if (box > 16 && head.size() > 16) compatible = head.substr(16, std::min<size_t>(box, head.size()) - 16);
  auto is_heic_brand = [](std::string_view b) {
    return b == "heic" || b == "heix" || b == "heim" || b == "heis" || b == "hevc" || b == "hevx";
  };
  if (is_heic_brand(major)) return "image/heic";
  if (major == "mif1" || major == "msf1") {
    for (size_t i = 0; i + 4 <= compatible.size(); i += 4) {
      if (is_heic_brand(compatible.substr(i, 4))) return "image/heic";
    }
    return "image/heif";
  }
  if (major == "avif" || major == "avis") return "image/avif";
  if (major == "qt  ") return "video/quicktime";
  if (major == "M4A " || major == "M4B ") return "audio/mp4";
  if (major == "isom" || major == "iso2" || major == "iso3" || major == "iso4" || major == "iso5" || major == "iso6" ||
      major == "mp41" || major == "mp42" || major == "avc1" || major == "M4V " || major == "M4VH" || major == "M4VP" ||
      major == "dash" || major == "mmp4" || major == "f4v ") {
    return "video/mp4";
  }
  if (StartsWith(major, "3gp") || StartsWith(major, "3g2")) return "video/3gpp";
  return "";
}

// ZIP: ODF and EPUB store an uncompressed "mimetype" entry first, which
// names the exact type; anything else is a plain zip refined later.
std::string SniffZip(std::string_view head) {
  if (head.size() >= 30 + 8 && Le16(head, 8) == 0 /* stored */ && Le16(head, 26) == 8 &&
      head.substr(30, 8) == "mimetype") {
    size_t extra = Le16(head, 28);
    size_t len = Le32(head, 18);
    size_t start = 38 + extra;
    if (len > 0 && len < 100 && start + len <= head.size()) {
      std::string type(head.substr(start, len));
      if (type == kOdt || type == kOds || type == kOdp || type == kEpub) return type;
    }
  }
  return std::string(kZip);
}

bool IsMp3FrameSync(std::string_view head) {
  if (head.size() < 4 || Byte(head, 0) != 0xFF || (Byte(head, 1) & 0xE0) != 0xE0) return false;
  int version = (Byte(head, 1) >> 3) & 3;  // 1 is reserved
  int layer = (Byte(head, 1) >> 1) & 3;    // 0 is reserved (ADTS AAC uses it)
  int bitrate = Byte(head, 2) >> 4;        // 15 is invalid
  int rate = (Byte(head, 2) >> 2) & 3;     // 3 is reserved
  return version != 1 && layer != 0 && bitrate != 15 && rate != 3;
}

// WHATWG MIME sniffing's list of tags that mark a document as HTML: the tag
// name must be followed by a space or '>'.
bool LooksLikeHtml(std::string_view text) {
  static constexpr std::array<std::string_view, 17> kTags = {
      "<!doctype html", "<html",  "<head", "<script", "<iframe", "<h1", "<div", "<font", "<table", "<a",
      "<style",         "<title", "<b",    "<body",   "<br",     "<p",  "<!--"};
  for (std::string_view tag : kTags) {
    if (!StartsWithNoCase(text, tag)) continue;
    if (text.size() == tag.size()) return true;
    char next = text[tag.size()];
    if (next == ' ' || next == '>' || next == '\t' || next == '\n' || next == '\r') return true;
  }
  return false;
}

std::string SniffMarkup(std::string_view head) {
  std::string_view text = SkipWhitespaceAndBom(head);
  if (text.empty() || text.front() != '<') return "";
  if (StartsWithNoCase(text, "<svg")) return "image/svg+xml";
  if (LooksLikeHtml(text)) return "text/html";
  if (StartsWithNoCase(text, "<?xml") || StartsWithNoCase(text, "<!doctype svg")) {
    std::string lower = Lower(text);
    if (Contains(lower, "<svg")) return "image/svg+xml";
    if (Contains(lower, "<html")) return "application/xhtml+xml";
    return "application/xml";
  }
  return "";
}

bool IsBmp(std::string_view head) {
  if (head.size() < 18 || !StartsWith(head, "BM")) return false;
  uint32_t dib = Le32(head, 14);
  return dib == 12 || dib == 40 || dib == 52 || dib == 56 || dib == 64 || dib == 108 || dib == 124;
}

// Normalises a declared type: lower case, no parameters, common aliases
// mapped to one name. "" for no declaration.
std::string NormaliseDeclared(std::string_view declared) {
  std::string t = Lower(declared.substr(0, declared.find(';')));
  while (!t.empty() && IsSpace(t.back())) t.pop_back();
  size_t start = 0;
  while (start < t.size() && IsSpace(t[start])) ++start;
  t.erase(0, start);
  if (t == kOctetStream || t == "binary/octet-stream" || t == "application/unknown") return "";
  struct Alias {
    std::string_view from, to;
  };
  static constexpr Alias kAliases[] = {
      {"image/jpg", "image/jpeg"},
      {"image/pjpeg", "image/jpeg"},
      {"image/x-ms-bmp", "image/bmp"},
      {"image/x-bmp", "image/bmp"},
      {"image/heic-sequence", "image/heic"},
      {"image/heif-sequence", "image/heif"},
      {"audio/mp3", "audio/mpeg"},
      {"audio/x-mp3", "audio/mpeg"},
      {"audio/mpeg3", "audio/mpeg"},
      {"audio/x-mpeg", "audio/mpeg"},
      {"audio/x-wav", "audio/wav"},
      {"audio/wave", "audio/wav"},
      {"audio/vnd.wave", "audio/wav"},
      {"audio/x-flac", "audio/flac"},
      {"audio/x-m4a", "audio/mp4"},
      {"audio/m4a", "audio/mp4"},
      {"video/x-m4v", "video/mp4"},
      {"video/x-matroska", "video/webm"},
      {"application/x-pdf", "application/pdf"},
      {"application/x-zip-compressed", "application/zip"},
      {"application/x-zip", "application/zip"},
      {"multipart/x-zip", "application/zip"},
      {"text/x-markdown", "text/markdown"},
      {"text/rtf", "application/rtf"},
      {"application/x-rtf", "application/rtf"},
      {"text/xml", "application/xml"},
      {"application/x-javascript", "text/javascript"},
      {"application/javascript", "text/javascript"},
  };
  for (const Alias& a : kAliases) {
    if (t == a.from) return std::string(a.to);
  }
  return t;
}

std::string_view Extension(std::string_view filename) {
  size_t slash = filename.find_last_of("/\\");
  if (slash != std::string_view::npos) filename.remove_prefix(slash + 1);
  size_t dot = filename.rfind('.');
  if (dot == std::string_view::npos || dot == 0) return {};
  return filename.substr(dot + 1);
}

std::string TypeForExtension(const std::string& ext) {
  struct Entry {
    std::string_view ext, type;
  };
  static constexpr Entry kTable[] = {
      {"pdf", "application/pdf"},
      {"txt", "text/plain"},
      {"text", "text/plain"},
      {"csv", "text/csv"},
      {"md", "text/markdown"},
      {"markdown", "text/markdown"},
      {"rtf", "application/rtf"},
      {"odt", kOdt},
      {"ods", kOds},
      {"odp", kOdp},
      {"docx", kDocx},
      {"xlsx", kXlsx},
      {"pptx", kPptx},
      {"doc", "application/msword"},
      {"dot", "application/msword"},
      {"xls", "application/vnd.ms-excel"},
      {"ppt", "application/vnd.ms-powerpoint"},
      {"pps", "application/vnd.ms-powerpoint"},
      {"epub", kEpub},
      {"zip", kZip},
      {"h5p", kZip},
      {"imscc", "application/vnd.ims.imsccv1p1"},
      {"jpg", "image/jpeg"},
      {"jpeg", "image/jpeg"},
      {"png", "image/png"},
      {"gif", "image/gif"},
      {"webp", "image/webp"},
      {"bmp", "image/bmp"},
      {"heic", "image/heic"},
      {"heif", "image/heif"},
      {"mp3", "audio/mpeg"},
      {"m4a", "audio/mp4"},
      {"ogg", "audio/ogg"},
      {"oga", "audio/ogg"},
      {"opus", "audio/ogg"},
      {"wav", "audio/wav"},
      {"weba", "audio/webm"},
      {"flac", "audio/flac"},
      {"mp4", "video/mp4"},
      {"m4v", "video/mp4"},
      {"webm", "video/webm"},
      {"ogv", "video/ogg"},
      {"mov", "video/quicktime"},
      {"html", "text/html"},
      {"htm", "text/html"},
      {"svg", "image/svg+xml"},
  };
  for (const Entry& e : kTable) {
    if (ext == e.ext) return std::string(e.type);
  }
  return "";
}

// Extensions a double-click runs on some desktop: refused whatever the bytes.
bool IsExecutableExtension(const std::string& ext) {
  static constexpr std::string_view kExts[] = {
      "exe", "dll", "com", "bat", "cmd", "msi",  "msp", "scr", "pif", "cpl",      "vbs",    "vbe",  "js",
      "jse", "wsf", "wsh", "hta", "ps1", "psm1", "lnk", "reg", "inf", "scf",      "sh",     "bash", "run",
      "elf", "so",  "app", "apk", "jar", "deb",  "rpm", "dmg", "pkg", "appimage", "command"};
  return std::find(std::begin(kExts), std::end(kExts), ext) != std::end(kExts);
}

bool IsExecutableType(std::string_view type) {
  return type == kExeWindows || type == kExeElf || type == kExeMachO || type == kExeScript;
}

bool IsTextType(std::string_view type) {
  return type == "text/plain" || type == "text/csv" || type == "text/markdown" || type == "text/html" ||
         type == "image/svg+xml" || type == "application/xml" || type == "application/xhtml+xml" ||
         type == "text/javascript";
}

bool IsImsCommonCartridge(std::string_view type) {
  return type == "application/vnd.ims.imsccv1p1" || type == "application/vnd.ims.imsccv1p2" ||
         type == "application/vnd.ims.imsccv1p3";
}

// Types sharing a container format: the bytes cannot (or need not) tell them
// apart, so a declaration within the family is believed.
std::string_view Family(std::string_view type) {
  if (IsTextType(type)) return "text";
  if (type == kZip || type == kDocx || type == kXlsx || type == kPptx || type == kOdt || type == kOds || type == kOdp ||
      type == kEpub || IsImsCommonCartridge(type)) {
    return "zip";
  }
  if (type == "application/msword" || type == "application/vnd.ms-excel" || type == "application/vnd.ms-powerpoint") {
    return "ole2";
  }
  if (type == "video/mp4" || type == "audio/mp4" || type == "video/quicktime" || type == "video/3gpp") {
    return "isobmff";
  }
  if (type == "image/heic" || type == "image/heif") return "heif";
  if (type == "video/webm" || type == "audio/webm") return "matroska";
  if (type == "audio/ogg" || type == "video/ogg" || type == "application/ogg") return "ogg";
  return type;
}

// Containers whose sniffed type says less than the extension or declaration can.
bool IsGeneric(std::string_view type) {
  return type == kZip || type == "application/msword" || type == "video/mp4" || type == "application/ogg" ||
         type == "image/heif";
}

bool IsAccepted(std::string_view type) {
  static constexpr std::string_view kAccepted[] = {
      // documents
      "application/pdf", "text/plain", "text/csv", "text/markdown", "application/rtf", kOdt, kOds, kOdp, kDocx, kXlsx,
      kPptx, "application/msword", "application/vnd.ms-excel", "application/vnd.ms-powerpoint", kEpub, kZip,
      "application/vnd.ims.imsccv1p1", "application/vnd.ims.imsccv1p2", "application/vnd.ims.imsccv1p3",
      // images
      "image/jpeg", "image/png", "image/gif", "image/webp", "image/bmp", "image/heic", "image/heif",
      // audio
      "audio/mpeg", "audio/mp4", "audio/ogg", "audio/wav", "audio/webm", "audio/flac",
      // video
      "video/mp4", "video/webm", "video/ogg", "video/quicktime",
      // active, served inert
      "text/html", "image/svg+xml"};
  return std::find(std::begin(kAccepted), std::end(kAccepted), type) != std::end(kAccepted);
}

// True when `head` is UTF-8 without NUL bytes. When the file goes on past
// `head`, a sequence cut by the end of `head` is allowed.
bool IsUtf8Text(std::string_view head, bool truncated) {
  size_t i = 0;
  const size_t n = head.size();
  while (i < n) {
    uint8_t c = Byte(head, i);
    if (c == 0) return false;
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    for (size_t k = 1; k < len; ++k) {
      if (i + k >= n) return truncated;  // cut by the end of head
      uint8_t cc = Byte(head, i + k);
      if ((cc & 0xC0) != 0x80) return false;
      cp = cp << 6 | (cc & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;  // overlong, out of range or a surrogate
    }
    i += len;
  }
  return true;
}

}  // namespace

std::string SniffContentType(std::string_view head) {
  const size_t n = head.size();
  if (StartsWith(head, "%PDF-")) return "application/pdf";
  if (StartsWith(head, "\xFF\xD8\xFF")) return "image/jpeg";
  if (StartsWith(head, "\x89PNG\r\n\x1A\n")) return "image/png";
  if (StartsWith(head, "GIF87a") || StartsWith(head, "GIF89a")) return "image/gif";
  if (n >= 12 && StartsWith(head, "RIFF")) {
    std::string_view form = head.substr(8, 4);
    if (form == "WEBP") return "image/webp";
    if (form == "WAVE") return "audio/wav";
    if (form == "AVI ") return "video/x-msvideo";
  }
  if (IsBmp(head)) return "image/bmp";
  if (n >= 12 && head.substr(4, 4) == "ftyp") return SniffIsoBmff(head);
  if (StartsWith(head, "\x1A\x45\xDF\xA3")) return "video/webm";  // EBML: WebM or Matroska
  if (StartsWith(head, "OggS")) {
    return Contains(head, "\x80theora") ? "video/ogg" : "audio/ogg";
  }
  if (StartsWith(head, "ID3") || IsMp3FrameSync(head)) return "audio/mpeg";
  if (n >= 2 && Byte(head, 0) == 0xFF && (Byte(head, 1) & 0xF6) == 0xF0) return "audio/aac";  // ADTS
  if (StartsWith(head, "fLaC")) return "audio/flac";
  if (StartsWith(head, std::string_view("PK\x03\x04", 4)) || StartsWith(head, std::string_view("PK\x05\x06", 4))) {
    return SniffZip(head);
  }
  if (StartsWith(head, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1")) return "application/msword";
  if (StartsWith(head, "{\\rtf")) return "application/rtf";
  if (StartsWith(head, "MZ")) return std::string(kExeWindows);
  if (StartsWith(head,
                 "\x7F"
                 "ELF"))
    return std::string(kExeElf);
  if (StartsWith(head, "\xFE\xED\xFA\xCE") || StartsWith(head, "\xFE\xED\xFA\xCF") ||
      StartsWith(head, "\xCE\xFA\xED\xFE") || StartsWith(head, "\xCF\xFA\xED\xFE") ||
      StartsWith(head, "\xCA\xFE\xBA\xBE")) {
    return std::string(kExeMachO);
  }
  if (StartsWith(head, "#!")) return std::string(kExeScript);
  return SniffMarkup(head);
}

Result<std::string> CheckUpload(std::string_view filename, std::string_view declared, std::string_view head,
                                uint64_t size) {
  const std::string ext = Lower(Extension(filename));
  if (IsExecutableExtension(ext)) {
    return Status::UnsupportedType("programs and scripts (." + ext + ") are not accepted");
  }
  const std::string declared_type = NormaliseDeclared(declared);

  if (size == 0) {
    if (declared_type.empty() || StartsWith(declared_type, "text/")) return std::string("text/plain");
    return Status::UnsupportedType("the file is empty, so its content is not " + declared_type);
  }

  const std::string sniffed = SniffContentType(head);
  if (IsExecutableType(sniffed)) return Status::UnsupportedType("programs and scripts are not accepted");
  const std::string by_ext = TypeForExtension(ext);

  std::string type;
  if (!declared_type.empty()) {
    if (!sniffed.empty() && Family(sniffed) != Family(declared_type)) {
      return Status::UnsupportedType("the file's content is not " + declared_type);
    }
    if (sniffed.empty() && !IsAccepted(declared_type) && !IsGeneric(declared_type)) {
      return Status::UnsupportedType("files of type " + declared_type + " are not accepted");
    }
    if (sniffed.empty() && !IsTextType(declared_type)) {
      // Every accepted binary type has magic bytes: without them the
      // declaration is not believed.
      return Status::UnsupportedType("the file's content is not " + declared_type);
    }
    type = declared_type;
    // A generic declaration ("application/zip") says less than the bytes
    // (an ODF "mimetype" entry) or the extension (".docx").
    if (IsGeneric(type)) {
      if (!sniffed.empty() && sniffed != type && !IsGeneric(sniffed)) {
        type = sniffed;
      } else if (!by_ext.empty() && Family(by_ext) == Family(type)) {
        type = by_ext;
      }
    }
  } else if (!sniffed.empty()) {
    type = sniffed;
    if (Family(sniffed) != "text" && IsGeneric(sniffed) && !by_ext.empty() && Family(by_ext) == Family(sniffed)) {
      type = by_ext;
    }
  } else {
    type = by_ext;
    if (type.empty()) return Status::UnsupportedType("this kind of file is not accepted");
    if (!IsTextType(type)) return Status::UnsupportedType("the file's content is not " + type);
  }

  if (!IsAccepted(type)) return Status::UnsupportedType("files of type " + type + " are not accepted");
  if (IsTextType(type) && !IsUtf8Text(head, size > head.size())) {
    return Status::UnsupportedType("the file is not UTF-8 text");
  }
  return type;
}

bool IsActiveContent(std::string_view content_type) {
  std::string t = Lower(content_type.substr(0, content_type.find(';')));
  while (!t.empty() && IsSpace(t.back())) t.pop_back();
  while (!t.empty() && IsSpace(t.front())) t.erase(0, 1);
  if (t == "text/html" || t == "application/xhtml+xml" || t == "image/svg+xml" || t == "text/xml" ||
      t == "application/xml" || t == "text/xsl" || t == "text/javascript" || t == "application/javascript" ||
      t == "application/x-javascript" || t == "application/ecmascript" || t == "text/ecmascript" ||
      t == "application/x-shockwave-flash" || t == "multipart/x-mixed-replace") {
    return true;
  }
  // Any XML vocabulary (application/rss+xml, application/xslt+xml, …) can
  // carry a stylesheet that produces script.
  return t.size() > 4 && t.compare(t.size() - 4, 4, "+xml") == 0;
}

}  // namespace relais::content
