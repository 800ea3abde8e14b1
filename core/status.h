// core/status.h — errors as values.
//
// Status carries a code and a human-readable message; Result<T> carries either
// a value or a non-OK Status. Both are [[nodiscard]]. Nothing in Relais throws
// across a module boundary: exceptions from the standard library or from a
// dependency are caught at the edge (the HTTP layer or main) and turned into
// Status::Internal.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace relais {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,   // the caller sent something malformed (HTTP 400)
  kUnauthenticated,   // no valid session (HTTP 401)
  kPermissionDenied,  // authenticated, but not allowed (HTTP 403)
  kNotFound,          // no such object, or not visible to the caller (HTTP 404)
  kConflict,          // the state forbids it, e.g. a returned hand-in (HTTP 409)
  kTooLarge,          // a body or file over the configured limit (HTTP 413)
  kUnsupportedType,   // a file whose content does not match an accepted type (HTTP 415)
  kRateLimited,       // too many attempts (HTTP 429)
  kCorruption,        // stored or received bytes are not what they must be
  kIOError,           // the disk said no (full, read-only, gone)
  kInternal,          // a bug or an unexpected dependency failure (HTTP 500)
};

// Returns a stable snake_case name ("not_found") used in JSON errors and logs.
const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
  static Status Unauthenticated(std::string m) { return {StatusCode::kUnauthenticated, std::move(m)}; }
  static Status PermissionDenied(std::string m) { return {StatusCode::kPermissionDenied, std::move(m)}; }
  static Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status Conflict(std::string m) { return {StatusCode::kConflict, std::move(m)}; }
  static Status TooLarge(std::string m) { return {StatusCode::kTooLarge, std::move(m)}; }
  static Status UnsupportedType(std::string m) { return {StatusCode::kUnsupportedType, std::move(m)}; }
  static Status RateLimited(std::string m) { return {StatusCode::kRateLimited, std::move(m)}; }
  static Status Corruption(std::string m) { return {StatusCode::kCorruption, std::move(m)}; }
  static Status IOError(std::string m) { return {StatusCode::kIOError, std::move(m)}; }
  static Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "not_found: no such homework"
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// Either a T or a non-OK Status. Accessing the value of an error is a bug
// (asserted in debug builds).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    assert(!std::get<Status>(v_).ok() && "Result built from an OK status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & {
    assert(ok());
    return std::get<T>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<T>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<T>(std::move(v_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace relais

// Returns early from the enclosing function if `expr` (a Status) is not OK.
#define RELAIS_RETURN_IF_ERROR(expr) \
  do {                               \
    ::relais::Status _st = (expr);   \
    if (!_st.ok()) return _st;       \
  } while (0)

#define RELAIS_CONCAT_INNER(a, b) a##b
#define RELAIS_CONCAT(a, b) RELAIS_CONCAT_INNER(a, b)
// Declares `lhs` from a Result, or returns its Status from the enclosing function.
#define RELAIS_ASSIGN_OR_RETURN(lhs, expr) RELAIS_ASSIGN_OR_RETURN_IMPL(RELAIS_CONCAT(_res_, __LINE__), lhs, expr)
#define RELAIS_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return tmp.status();                \
  lhs = std::move(tmp).value()
