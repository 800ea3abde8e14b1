#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "core/crypto.h"
#include "core/log.h"

int main(int argc, char** argv) {
  if (!relais::core::InitCrypto().ok()) return 1;
  relais::core::SetLogQuiet(true);
  // Tests hash many passwords: keep Argon2id cheap here (production keeps 19 MiB × 2).
  relais::core::SetPasswordParams({1, 8u << 10, 4});
  doctest::Context context(argc, argv);
  return context.run();
}
