// content/schema.h — the school database's numbered migrations
// (content/migrations/NNNN_name.sql, compiled in by CMake).
#pragma once

#include <vector>

#include "core/db.h"

namespace relais::content {

const std::vector<core::Migration>& Migrations();

}  // namespace relais::content
