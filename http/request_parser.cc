#include "http/request_parser.h"

#include <algorithm>
#include <cstring>

#include "http/http_util.h"

namespace relais::http {
namespace {

constexpr std::string_view kHeadEnd = "\r\n\r\n";

int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> ParseQuery(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> params;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string key = PercentDecode(pair.substr(0, eq), true);
    std::string value = eq == std::string_view::npos ? "" : PercentDecode(pair.substr(eq + 1), true);
    params.emplace_back(std::move(key), std::move(value));
  }
  return params;
}

namespace {

// Fills the framing fields of `head` from its headers; false for the error
// in *error.
bool DecideFraming(ParsedHead& head, RequestError* error) {
  const std::string* te = head.FindHeader("Transfer-Encoding");
  // An empty Transfer-Encoding is ignored; only the first one counts.
  bool chunked = te != nullptr && !te->empty();
  if (chunked && !EqualsNoCase(TrimOws(*te), "chunked")) {
    *error = kBadCoding;
    return false;
  }
  uint64_t length = 0;
  if (const std::string* cl = head.FindHeader("Content-Length")) {
    if (chunked || head.CountHeader("Content-Length") > 1 || cl->empty() ||
        cl->find_first_not_of("0123456789") != std::string::npos || cl->size() > 18) {
      *error = kBadContentLength;
      return false;
    }
    for (char ch : *cl) length = length * 10 + static_cast<uint64_t>(ch - '0');
  }
  head.framing = chunked ? BodyFraming::kChunked : (length > 0 ? BodyFraming::kLength : BodyFraming::kNone);
  head.content_length = chunked ? 0 : length;
  const std::string* expect = head.FindHeader("Expect");
  head.expect_continue = expect != nullptr && EqualsNoCase(*expect, "100-continue") && (chunked || length > 0);
  const std::string* connection = head.FindHeader("Connection");
  std::string_view c = connection ? std::string_view(*connection) : std::string_view();
  head.keep_alive = head.version == "HTTP/1.1" ? !EqualsNoCase(c, "close") : EqualsNoCase(c, "keep-alive");
  return true;
}

}  // namespace

bool EqualsNoCase(std::string_view a, std::string_view b) {
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [&](char x, char y) { return lower(x) == lower(y); });
}

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool RequestError::operator==(const RequestError& o) const {
  return status == o.status && std::strcmp(code, o.code) == 0 && std::strcmp(message, o.message) == 0;
}

const std::string* ParsedHead::FindHeader(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (EqualsNoCase(key, name)) return &value;
  }
  return nullptr;
}

size_t ParsedHead::CountHeader(std::string_view name) const {
  return static_cast<size_t>(
      std::count_if(headers.begin(), headers.end(), [&](const auto& h) { return EqualsNoCase(h.first, name); }));
}

HeadEnd FindHeadEnd(std::string_view buffer, const Limits& limits, size_t* head_bytes) {
  size_t end = buffer.find(kHeadEnd);
  if (end == std::string_view::npos) {
    // The earliest the block can end is where a partial "\r\n\r" at the
    // end of the buffer starts: too large only if even that is over the
    // limit, so the answer does not depend on where reads cut the input.
    size_t partial = 3;
    while (partial > 0 && !buffer.ends_with(kHeadEnd.substr(0, partial))) --partial;
    return buffer.size() - partial > limits.max_header_bytes ? HeadEnd::kTooLarge : HeadEnd::kNeedMore;
  }
  if (end > limits.max_header_bytes) return HeadEnd::kTooLarge;
  *head_bytes = end;
  return HeadEnd::kComplete;
}

HeadResult ParseRequestHead(std::string_view head, const Limits& limits) {
  if (head.size() > limits.max_header_bytes) return kHeadTooLarge;
  ParsedHead out;
  // Request line: method SP target SP version. The method ends at the
  // first space, the version starts after the last one.
  size_t line_end = head.find("\r\n");
  std::string_view request_line = head.substr(0, line_end);
  size_t sp1 = request_line.find(' ');
  size_t sp2 = request_line.rfind(' ');
  if (sp1 == std::string_view::npos || sp2 == sp1) return kBadRequestLine;
  out.version = std::string(request_line.substr(sp2 + 1));
  if (out.version != "HTTP/1.1" && out.version != "HTTP/1.0") return kBadVersion;
  std::string_view target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
  if (target.empty() || target.front() != '/') return kBadTarget;
  out.method = std::string(request_line.substr(0, sp1));
  out.target = std::string(target);
  size_t q = target.find('?');
  out.path = PercentDecode(target.substr(0, q), false);
  if (q != std::string_view::npos) out.params = ParseQuery(target.substr(q + 1));

  // Header lines: name ":" value, no space before the colon, no folding.
  std::string_view rest = line_end == std::string_view::npos ? std::string_view() : head.substr(line_end + 2);
  out.headers.reserve(static_cast<size_t>(std::count(rest.begin(), rest.end(), '\n')) + 1);
  while (!rest.empty()) {
    size_t eol = rest.find("\r\n");
    std::string_view line = rest.substr(0, eol);
    rest = eol == std::string_view::npos ? std::string_view() : rest.substr(eol + 2);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0 || line.front() == ' ' || line.front() == '\t' ||
        TrimOws(line.substr(0, colon)).size() != colon) {
      return kBadHeaderLine;
    }
    out.headers.emplace_back(std::string(line.substr(0, colon)), std::string(TrimOws(line.substr(colon + 1))));
  }
  RequestError error;
  if (!DecideFraming(out, &error)) return error;
  return out;
}

std::string SerializeHead(const ParsedHead& head) {
  std::string out = head.method + " " + head.target + " " + head.version;
  for (const auto& [name, value] : head.headers) {
    out += "\r\n";
    out += name;
    out += ": ";
    out += value;
  }
  return out;
}

bool ChunkedDecoder::TakeLine(std::string_view& in, size_t* consumed, size_t max, bool keep) {
  while (!in.empty()) {
    char ch = in.front();
    in.remove_prefix(1);
    ++*consumed;
    if (ch == '\n' && last_cr_) {
      last_cr_ = false;
      return true;
    }
    last_cr_ = ch == '\r';
    if (++line_bytes_ > max) {
      phase_ = Phase::kError;
      return false;
    }
    if (keep) line_.push_back(ch);
  }
  return false;
}

bool ChunkedDecoder::EndSizeLine() {
  std::string_view line(line_);
  line.remove_suffix(1);  // the CR
  line = TrimOws(line.substr(0, line.find(';')));
  if (line.empty()) return false;
  uint64_t size = 0;
  for (char ch : line) {
    int h = Hex(ch);
    if (h < 0 || size > (UINT64_MAX >> 4)) return false;
    size = size * 16 + static_cast<uint64_t>(h);
  }
  remaining_ = size;
  return true;
}

ChunkedDecoder::Step ChunkedDecoder::Decode(std::string_view input) {
  Step step;
  while (true) {
    switch (phase_) {
      case Phase::kDone:
        step.state = State::kDone;
        return step;
      case Phase::kError:
        step.state = State::kError;
        return step;
      default:
        break;
    }
    if (input.empty()) {
      step.state = State::kNeedMore;
      return step;
    }
    switch (phase_) {
      case Phase::kSizeLine:
        if (!TakeLine(input, &step.consumed, limits_.max_chunk_line_bytes, true)) break;
        if (!EndSizeLine()) {
          phase_ = Phase::kError;
          break;
        }
        line_.clear();
        line_bytes_ = 0;
        phase_ = remaining_ == 0 ? Phase::kTrailer : Phase::kData;
        break;
      case Phase::kData: {
        size_t n = static_cast<size_t>(std::min<uint64_t>(remaining_, input.size()));
        step.data = input.substr(0, n);
        step.consumed += n;
        remaining_ -= n;
        if (remaining_ == 0) phase_ = Phase::kDataCr;
        step.state = State::kData;
        return step;
      }
      case Phase::kDataCr:
      case Phase::kDataLf: {
        char want = phase_ == Phase::kDataCr ? '\r' : '\n';
        char ch = input.front();
        input.remove_prefix(1);
        ++step.consumed;
        phase_ = ch != want ? Phase::kError : (phase_ == Phase::kDataCr ? Phase::kDataLf : Phase::kSizeLine);
        break;
      }
      case Phase::kTrailer: {
        if (!TakeLine(input, &step.consumed, limits_.max_trailer_line_bytes, false)) break;
        bool empty = line_bytes_ == 1;  // just the CR
        line_bytes_ = 0;
        if (empty) phase_ = Phase::kDone;
        break;
      }
      case Phase::kDone:
      case Phase::kError:
        break;
    }
  }
}

BufferedRequest ParseBufferedRequest(std::string_view buffer, const Limits& limits) {
  BufferedRequest out;
  size_t head_bytes = 0;
  switch (FindHeadEnd(buffer, limits, &head_bytes)) {
    case HeadEnd::kNeedMore:
      return out;
    case HeadEnd::kTooLarge:
      out.state = BufferedRequest::State::kBadHead;
      out.error = kHeadTooLarge;
      return out;
    case HeadEnd::kComplete:
      break;
  }
  HeadResult head = ParseRequestHead(buffer.substr(0, head_bytes), limits);
  if (!head.ok()) {
    out.state = BufferedRequest::State::kBadHead;
    out.error = head.error();
    return out;
  }
  out.head = std::move(head.value());
  std::string_view rest = buffer.substr(head_bytes + kHeadEnd.size());
  size_t used = head_bytes + kHeadEnd.size();
  switch (out.head.framing) {
    case BodyFraming::kNone:
      break;
    case BodyFraming::kLength:
      if (rest.size() < out.head.content_length) return out;
      out.body = std::string(rest.substr(0, static_cast<size_t>(out.head.content_length)));
      used += out.body.size();
      break;
    case BodyFraming::kChunked: {
      ChunkedDecoder decoder(limits);
      while (true) {
        ChunkedDecoder::Step step = decoder.Decode(rest);
        rest.remove_prefix(step.consumed);
        used += step.consumed;
        if (step.state == ChunkedDecoder::State::kData) {
          out.body.append(step.data);
          continue;
        }
        if (step.state == ChunkedDecoder::State::kNeedMore) {
          out.body.clear();
          return out;
        }
        if (step.state == ChunkedDecoder::State::kError) {
          out.body.clear();
          out.state = BufferedRequest::State::kBadBody;
          return out;
        }
        break;  // kDone
      }
      break;
    }
  }
  out.state = BufferedRequest::State::kComplete;
  out.consumed = used;
  return out;
}

}  // namespace relais::http
