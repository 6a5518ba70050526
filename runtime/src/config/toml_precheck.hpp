// A check of TOML text before toml++ sees it. toml++ 3.3.0 (Debian 12) reaches
// __builtin_unreachable() (undefined behaviour) when it tests some non-ASCII characters for
// whitespace between tokens, e.g. U+00A1..U+0499. Outside strings and comments TOML allows
// only ASCII, so such a character is an error anyway: report it here, by line and column.
#pragma once

#include <string_view>

#include "edgefl/status.hpp"

namespace edgefl::config_detail {

// invalid_argument "<origin>:<line>:<column>: ..." for a non-ASCII byte outside a string or
// comment; ok otherwise (toml++ then checks everything else).
Status check_ascii_outside_strings(std::string_view toml_text, std::string_view origin);

}  // namespace edgefl::config_detail
