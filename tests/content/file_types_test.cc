#include "content/file_types.h"

#include <doctest/doctest.h>

#include <string>

namespace relais::content {
namespace {

std::string Bytes(std::initializer_list<int> b) {
  std::string s;
  for (int c : b) s.push_back(static_cast<char>(c));
  return s;
}

// An ISO-BMFF "ftyp" box with `major` and optional compatible brands.
std::string Ftyp(std::string_view major, std::string_view compatible = "") {
  std::string body = std::string(major) + std::string("\0\0\0\0", 4) + std::string(compatible);
  uint32_t size = static_cast<uint32_t>(8 + body.size());
  std::string box = Bytes({static_cast<int>(size >> 24), static_cast<int>((size >> 16) & 0xFF),
                           static_cast<int>((size >> 8) & 0xFF), static_cast<int>(size & 0xFF)});
  return box + "ftyp" + body +
         std::string(
             "\0\0\0\x08"
             "free",
             8);
}

// A zip whose first entry is stored (uncompressed) under `name` with `content`.
std::string ZipWithFirstEntry(std::string_view name, std::string_view content) {
  std::string s = std::string("PK\x03\x04", 4);
  s += Bytes({20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});  // version, flags, method=stored, time, date, crc
  uint32_t n = static_cast<uint32_t>(content.size());
  std::string size = Bytes({static_cast<int>(n & 0xFF), static_cast<int>((n >> 8) & 0xFF), 0, 0});
  s += size + size;  // compressed, uncompressed
  s += Bytes({static_cast<int>(name.size()), 0, 0, 0});
  s += std::string(name) + std::string(content);
  return s;
}

std::string Bmp() {
  std::string s = "BM";
  s += Bytes({0x46, 0, 0, 0, 0, 0, 0, 0, 0x36, 0, 0, 0, 40, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0});
  return s;
}

// The accepted type, or the error as text so that a failure shows in the check.
std::string Accepted(std::string_view filename, std::string_view declared, std::string_view head, uint64_t size) {
  auto r = CheckUpload(filename, declared, head, size);
  return r.ok() ? *r : "rejected: " + r.status().ToString();
}

const std::string kPdf = "%PDF-1.7\n%\xE2\xE3\xCF\xD3\n1 0 obj";
const std::string kPng = std::string("\x89PNG\r\n\x1A\n\0\0\0\x0DIHDR", 16);
const std::string kJpeg = Bytes({0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10}) + "JFIF";
const std::string kZip = std::string("PK\x03\x04\x14\0\x06\0\x08\0", 10) + std::string(40, 'x');

}  // namespace

TEST_CASE("each supported format is recognised by its magic bytes") {
  struct Case {
    const char* name;
    std::string head;
    const char* type;
  };
  const Case cases[] = {
      {"pdf", kPdf, "application/pdf"},
      {"jpeg", kJpeg, "image/jpeg"},
      {"png", kPng, "image/png"},
      {"gif87", "GIF87a\x01\x00", "image/gif"},
      {"gif89", "GIF89a\x01\x00", "image/gif"},
      {"webp", std::string("RIFF\x10\0\0\0WEBPVP8 ", 16), "image/webp"},
      {"wav", std::string("RIFF\x10\0\0\0WAVEfmt ", 16), "audio/wav"},
      {"bmp", Bmp(), "image/bmp"},
      {"heic", Ftyp("heic", "mif1heic"), "image/heic"},
      {"heix", Ftyp("heix"), "image/heic"},
      {"mif1 with heic", Ftyp("mif1", "mif1heic"), "image/heic"},
      {"mif1 alone", Ftyp("mif1", "mif1"), "image/heif"},
      {"mp4 isom", Ftyp("isom", "isomiso2avc1mp41"), "video/mp4"},
      {"mp4 iso2", Ftyp("iso2"), "video/mp4"},
      {"mp4 mp41", Ftyp("mp41"), "video/mp4"},
      {"mp4 mp42", Ftyp("mp42"), "video/mp4"},
      {"mp4 avc1", Ftyp("avc1"), "video/mp4"},
      {"m4v", Ftyp("M4V "), "video/mp4"},
      {"mov", Ftyp("qt  ", "qt  "), "video/quicktime"},
      {"m4a", Ftyp("M4A ", "M4A mp42isom"), "audio/mp4"},
      {"webm", Bytes({0x1A, 0x45, 0xDF, 0xA3, 0x9F, 0x42, 0x86, 0x81, 0x01}) + "webm", "video/webm"},
      {"ogg vorbis", std::string("OggS\0\x02", 6) + std::string(22, '\0') + "\x01vorbis", "audio/ogg"},
      {"ogg theora", std::string("OggS\0\x02", 6) + std::string(22, '\0') + "\x80theora", "video/ogg"},
      {"mp3 id3", "ID3\x04\x00\x00\x00\x00\x00\x00", "audio/mpeg"},
      {"mp3 frame", Bytes({0xFF, 0xFB, 0x90, 0x64, 0x00}), "audio/mpeg"},
      {"flac", "fLaC\x00\x00\x00\x22", "audio/flac"},
      {"zip", kZip, "application/zip"},
      {"empty zip", std::string("PK\x05\x06", 4) + std::string(18, '\0'), "application/zip"},
      {"odt", ZipWithFirstEntry("mimetype", "application/vnd.oasis.opendocument.text"),
       "application/vnd.oasis.opendocument.text"},
      {"epub", ZipWithFirstEntry("mimetype", "application/epub+zip"), "application/epub+zip"},
      {"ole2", Bytes({0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0}), "application/msword"},
      {"rtf", "{\\rtf1\\ansi", "application/rtf"},
      {"html doctype", "\n  <!DOCTYPE html><html>", "text/html"},
      {"html upper case", "<HTML><BODY>hi", "text/html"},
      {"html head", "<head>", "text/html"},
      {"html body", "\xEF\xBB\xBF<body onload=x()>", "text/html"},
      {"html script", "\t<script>alert(1)</script>", "text/html"},
      {"svg", "<svg xmlns=\"http://www.w3.org/2000/svg\">", "image/svg+xml"},
      {"svg after prolog", "<?xml version=\"1.0\"?>\n<!-- c -->\n<svg xmlns=\"x\"/>", "image/svg+xml"},
      {"xml", "<?xml version=\"1.0\"?><note/>", "application/xml"},
      {"exe", "MZ\x90\x00\x03", "application/x-msdownload"},
      {"elf",
       "\x7F"
       "ELF\x02\x01\x01",
       "application/x-executable"},
      {"script", "#!/bin/sh\nrm -rf /\n", "text/x-shellscript"},
      {"plain text", "Bonjour à tous", ""},
      {"empty", "", ""},
      {"text starting BM", "BMW and Audi", ""},
      {"angle bracket text", "<3 this lesson", ""},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    CHECK(SniffContentType(c.head) == c.type);
  }
}

TEST_CASE("an upload is typed by its content when the declaration says nothing") {
  CHECK(Accepted("scan.pdf", "", kPdf, 1000) == "application/pdf");
  CHECK(Accepted("scan", "application/octet-stream", kPdf, 1000) == "application/pdf");
  CHECK(Accepted("photo.bin", "", kJpeg, 1000) == "image/jpeg");
  CHECK(Accepted("song.m4a", "", Ftyp("isom"), 1000) == "audio/mp4");
  CHECK(Accepted("clip.mov", "", Ftyp("isom"), 1000) == "video/quicktime");
  CHECK(Accepted("clip", "", Ftyp("isom"), 1000) == "video/mp4");
  CHECK(Accepted("notes.txt", "", "Des notes en français.\n", 23) == "text/plain");
  CHECK(Accepted("data.CSV", "", "a,b\n1,2\n", 8) == "text/csv");
  CHECK(Accepted("IMG_0001.HEIC", "", Ftyp("heic"), 1000) == "image/heic");
}

TEST_CASE("a declared type is normalised") {
  CHECK(Accepted("a.pdf", "Application/PDF; charset=binary", kPdf, 1000) == "application/pdf");
  CHECK(Accepted("a.jpg", "image/jpg", kJpeg, 1000) == "image/jpeg");
  CHECK(Accepted("a.txt", "text/plain; charset=utf-8", "hello", 5) == "text/plain");
  CHECK(Accepted("a.mp3", "audio/mp3", "ID3\x04\x00", 1000) == "audio/mpeg");
  CHECK(Accepted("a.wav", "audio/x-wav", std::string("RIFF\x10\0\0\0WAVEfmt ", 16), 1000) == "audio/wav");
}

TEST_CASE("a declared type that contradicts the content is rejected") {
  auto r = CheckUpload("report.pdf", "application/pdf", kPng, 1000);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kUnsupportedType);
  CHECK(r.status().message() == "the file's content is not application/pdf");
  CHECK(CheckUpload("a.png", "image/png", kJpeg, 1000).status().code() == StatusCode::kUnsupportedType);
  CHECK(CheckUpload("a.txt", "text/plain", kPdf, 1000).status().code() == StatusCode::kUnsupportedType);
  CHECK(CheckUpload("a.pdf", "application/pdf", "<html><script>x</script>", 24).status().code() ==
        StatusCode::kUnsupportedType);
  // No magic at all: a binary declaration is not believed.
  CHECK(CheckUpload("a.pdf", "application/pdf", "just some text", 14).status().code() == StatusCode::kUnsupportedType);
  CHECK(CheckUpload("a.pdf", "", "just some text", 14).status().code() == StatusCode::kUnsupportedType);
}

TEST_CASE("types within one container family may be declared for each other") {
  CHECK(Accepted("song.m4a", "audio/mp4", Ftyp("isom"), 1000) == "audio/mp4");
  // The M4A brand says more than a generic video/mp4 declaration.
  CHECK(Accepted("clip.mp4", "video/mp4", Ftyp("M4A "), 1000) == "audio/mp4");
  CHECK(Accepted("voice.webm", "audio/webm", Bytes({0x1A, 0x45, 0xDF, 0xA3}), 1000) == "audio/webm");
  CHECK(Accepted("a.ogg", "application/ogg", std::string("OggS\0\x02", 6), 1000) == "audio/ogg");
}

TEST_CASE("a zip declared or named as an office document or e-book is accepted as that type") {
  const std::string docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
  CHECK(Accepted("devoir.docx", docx, kZip, 5000) == docx);
  CHECK(Accepted("devoir.docx", "", kZip, 5000) == docx);
  CHECK(Accepted("devoir.docx", "application/zip", kZip, 5000) == docx);
  CHECK(Accepted("devoir.docx", "application/x-zip-compressed", kZip, 5000) == docx);
  CHECK(Accepted("t.xlsx", "", kZip, 5000) == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
  CHECK(Accepted("t.pptx", "", kZip, 5000) ==
        "application/vnd.openxmlformats-officedocument.presentationml.presentation");
  CHECK(Accepted("livre.epub", "application/epub+zip", kZip, 5000) == "application/epub+zip");
  CHECK(Accepted("activity.h5p", "", kZip, 5000) == "application/zip");
  CHECK(Accepted("course.imscc", "", kZip, 5000) == "application/vnd.ims.imsccv1p1");
  CHECK(Accepted("scorm.zip", "", kZip, 5000) == "application/zip");
  CHECK(Accepted("x.odt", "application/zip", ZipWithFirstEntry("mimetype", "application/vnd.oasis.opendocument.text"),
                 5000) == "application/vnd.oasis.opendocument.text");
  // A zip is not a PDF.
  CHECK(CheckUpload("x.pdf", "application/pdf", kZip, 5000).status().code() == StatusCode::kUnsupportedType);
  // And a .docx that is not a zip is refused.
  CHECK(CheckUpload("x.docx", docx, kPdf, 5000).status().code() == StatusCode::kUnsupportedType);
}

TEST_CASE("an OLE2 file is typed as Word, Excel or PowerPoint by its declaration or extension") {
  const std::string ole = Bytes({0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0});
  CHECK(Accepted("a.doc", "", ole, 5000) == "application/msword");
  CHECK(Accepted("a.xls", "", ole, 5000) == "application/vnd.ms-excel");
  CHECK(Accepted("a.ppt", "application/vnd.ms-powerpoint", ole, 5000) == "application/vnd.ms-powerpoint");
  CHECK(Accepted("a.xls", "application/msword", ole, 5000) == "application/vnd.ms-excel");
}

TEST_CASE("programs and scripts are rejected whatever they claim to be") {
  CHECK(CheckUpload("setup.exe", "", "MZ\x90\x00", 5000).status().code() == StatusCode::kUnsupportedType);
  CHECK(CheckUpload("photo.jpg", "image/jpeg", "MZ\x90\x00", 5000).status().code() == StatusCode::kUnsupportedType);
  CHECK(CheckUpload("notes.txt", "text/plain",
                    "\x7F"
                    "ELF\x02\x01",
                    5000)
            .status()
            .code() == StatusCode::kUnsupportedType);
  CHECK(CheckUpload("install.txt", "", "#!/bin/bash\necho hi\n", 20).status().code() == StatusCode::kUnsupportedType);
  CHECK(CheckUpload("run.bat", "text/plain", "echo hi\r\n", 9).status().code() == StatusCode::kUnsupportedType);
  CHECK(CheckUpload("x.PS1", "", "Get-Item\n", 9).status().code() == StatusCode::kUnsupportedType);
}

TEST_CASE("types outside the accepted list are rejected") {
  CHECK(CheckUpload("a.avi", "", std::string("RIFF\x10\0\0\0AVI LIST", 16), 5000).status().code() ==
        StatusCode::kUnsupportedType);
  CHECK(CheckUpload("a.xml", "", "<?xml version=\"1.0\"?><a/>", 25).status().code() == StatusCode::kUnsupportedType);
  CHECK(CheckUpload("a.dat", "", std::string("\x01\x02\x03\x04", 4), 4).status().code() ==
        StatusCode::kUnsupportedType);
  auto py = CheckUpload("a.py", "text/x-python", "print(1)\n", 9);
  CHECK(py.status().code() == StatusCode::kUnsupportedType);
  CHECK(py.status().message() == "files of type text/x-python are not accepted");
}

TEST_CASE("text must be UTF-8 without NUL bytes") {
  CHECK(CheckUpload("a.txt", "text/plain", "caf\xE9", 4).status().code() == StatusCode::kUnsupportedType);  // Latin-1
  CHECK(CheckUpload("a.txt", "text/plain", std::string("a\0b", 3), 3).status().code() == StatusCode::kUnsupportedType);
  CHECK(CheckUpload("a.csv", "", "\xC0\xAF", 2).status().code() == StatusCode::kUnsupportedType);      // overlong
  CHECK(CheckUpload("a.txt", "", "\xED\xA0\x80", 3).status().code() == StatusCode::kUnsupportedType);  // surrogate
  CHECK(Accepted("a.txt", "",
                 "\xEF\xBB\xBF"
                 "caf\xC3\xA9 \xF0\x9F\x98\x80",
                 13) == "text/plain");
  CHECK(Accepted("a.md", "text/markdown", "# Titre\n", 8) == "text/markdown");
  // A character cut by the end of the sniffed head is fine when the file goes on...
  CHECK(Accepted("a.txt", "", "caf\xC3", 5000) == "text/plain");
  // ...but not when the file really ends there.
  CHECK(CheckUpload("a.txt", "", "caf\xC3", 4).status().code() == StatusCode::kUnsupportedType);
}

TEST_CASE("an empty file is accepted only as plain text") {
  CHECK(Accepted("empty.txt", "", "", 0) == "text/plain");
  CHECK(Accepted("empty", "application/octet-stream", "", 0) == "text/plain");
  CHECK(Accepted("empty.md", "text/markdown", "", 0) == "text/plain");
  CHECK(CheckUpload("empty.pdf", "application/pdf", "", 0).status().code() == StatusCode::kUnsupportedType);
}

TEST_CASE("HTML and SVG are accepted and reported as active content") {
  CHECK(Accepted("page.html", "text/html", "<!doctype html><p>hi", 20) == "text/html");
  CHECK(Accepted("page.html", "", "<!doctype html><p>hi", 20) == "text/html");
  CHECK(Accepted("logo.svg", "image/svg+xml", "<svg/>", 6) == "image/svg+xml");
  // A .txt whose text happens to look like HTML keeps its declared, inert type.
  CHECK(Accepted("a.txt", "text/plain", "<p>hello</p>", 12) == "text/plain");

  CHECK(IsActiveContent("text/html"));
  CHECK(IsActiveContent("Text/HTML; charset=utf-8"));
  CHECK(IsActiveContent("image/svg+xml"));
  CHECK(IsActiveContent("application/xhtml+xml"));
  CHECK(IsActiveContent("text/xml"));
  CHECK(IsActiveContent("application/xml"));
  CHECK(IsActiveContent("text/javascript"));
  CHECK(IsActiveContent("application/javascript"));
  CHECK(IsActiveContent("application/rss+xml"));
  CHECK_FALSE(IsActiveContent("text/plain"));
  CHECK_FALSE(IsActiveContent("application/pdf"));
  CHECK_FALSE(IsActiveContent("image/png"));
  CHECK_FALSE(IsActiveContent("video/mp4"));
}

}  // namespace relais::content
