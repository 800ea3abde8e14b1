#include "core/cli_args.h"

#include <algorithm>
#include <cstdio>

namespace relais::core {

Result<Args> Args::Parse(const std::vector<std::string>& argv, const std::vector<std::string>& with_value,
                         const std::vector<std::string>& flags) {
  Args args;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a.rfind("--", 0) != 0 || a == "--") {
      args.positional_.push_back(a);
      continue;
    }
    std::string name = a.substr(2);
    std::optional<std::string> inline_value;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      inline_value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    if (std::find(flags.begin(), flags.end(), name) != flags.end()) {
      args.values_.insert_or_assign(name, std::string(1, '1'));  // not = "1": GCC 12 -O3 warns falsely (-Wrestrict)
    } else if (std::find(with_value.begin(), with_value.end(), name) != with_value.end()) {
      if (!inline_value) {
        if (i + 1 >= argv.size()) return Status::InvalidArgument("--" + name + " needs a value");
        inline_value = argv[++i];
      }
      args.values_[name] = *inline_value;
      args.all_.emplace(name, *inline_value);
    } else {
      return Status::InvalidArgument("unknown option --" + name);
    }
  }
  return args;
}

std::optional<std::string> Args::Get(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::vector<std::string> Args::GetAll(const std::string& name) const {
  std::vector<std::string> out;
  auto [from, to] = all_.equal_range(name);
  for (auto it = from; it != to; ++it) out.push_back(it->second);
  return out;
}

int Fail(const Status& st, std::string_view program) {
  std::fprintf(stderr, "%.*s: %s\n", static_cast<int>(program.size()), program.data(), st.message().c_str());
  return st.code() == StatusCode::kInvalidArgument ? 2 : 1;
}

bool WantsHelp(const std::vector<std::string>& argv) {
  return std::find(argv.begin(), argv.end(), "--help") != argv.end() ||
         std::find(argv.begin(), argv.end(), "-h") != argv.end();
}

}  // namespace relais::core
