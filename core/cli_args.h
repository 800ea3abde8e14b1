// core/cli_args.h — the command lines' shared parts: "--name value" flags,
// --help, and the one way a command reports a failure.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace relais::core {

// Parsed "--name value" / "--flag" arguments plus positional ones.
class Args {
 public:
  // `flags` lists the flags that take no value ("--demo"). Unknown flags are
  // an error so a typo never passes silently.
  static Result<Args> Parse(const std::vector<std::string>& argv, const std::vector<std::string>& with_value,
                            const std::vector<std::string>& flags);
  // The last value given for `name`.
  std::optional<std::string> Get(const std::string& name) const;
  // Every value given for `name` ("--name a --name b"), in order.
  std::vector<std::string> GetAll(const std::string& name) const;
  bool Has(const std::string& name) const { return values_.count(name) > 0; }
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::map<std::string, std::string> values_;
  std::multimap<std::string, std::string> all_;
  std::vector<std::string> positional_;
};

// Prints "program: message" to stderr and returns the exit code (2 for a
// usage error, 1 otherwise).
int Fail(const Status& st, std::string_view program);
// Whether the arguments ask for help (--help or -h).
bool WantsHelp(const std::vector<std::string>& argv);

}  // namespace relais::core
