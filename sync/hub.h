// sync/hub.h — the gateway's logic (`relais hub`), above its store.
//
// The gateway enrols boxes with one-time codes, keeps each school's
// operation log and answers boxes and the ENT. This file holds what does not
// depend on the bundle format: opening the configured store and issuing
// enrolment codes. Thread-safe: a Hub only holds references.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/config.h"
#include "core/status.h"
#include "sync/hub_store.h"

namespace relais::sync {

// The store `config` names: PostgreSQL when hub_postgres is set, else SQLite
// in data_dir.
Result<std::unique_ptr<HubStore>> OpenHubStore(const core::Config& config);

// A fresh one-time code as a technician types it: 15 Crockford base32
// characters (75 random bits) in groups of five, "K7Q2M-9XH4T-B3WZR".
std::string NewEnrolmentCode();
// What a code means whatever its typing: upper case, without spaces or
// dashes, O read as 0 and I or L as 1. Empty if a character cannot belong.
std::string NormaliseEnrolmentCode(std::string_view typed);
// The hash the store keeps instead of the code (SHA-256 of the normal form).
std::string EnrolmentCodeHash(std::string_view typed);

class Hub {
 public:
  // `store` and `clock` must outlive the Hub.
  Hub(HubStore& store, const core::Clock& clock, const core::Config& config)
      : store_(store), clock_(clock), config_(config) {}

  HubStore& store() { return store_; }

  struct IssuedCode {
    std::string code;  // shown once; only its hash is stored
    int64_t expires_at = 0;
  };
  // A one-time code enrolling one box into `school_id`. NotFound if there is
  // no such school.
  Result<IssuedCode> IssueEnrolmentCode(std::string_view school_id);

 private:
  HubStore& store_;
  const core::Clock& clock_;
  const core::Config& config_;
};

}  // namespace relais::sync
