// A guard around toml++ 3.3.0 (Debian 12): its error paths test non-ASCII characters for
// whitespace through a function that reaches __builtin_unreachable() (undefined behaviour)
// for many of them, e.g. U+00A1..U+0499. TOML allows non-ASCII only inside strings and
// comments, where '~' is allowed too and nowhere else; so a copy with every non-ASCII byte
// replaced by '~' parses exactly when the original does, and fails where it would have.
// OptionTable parses that copy first and only then the real text.
#pragma once

#include <string>
#include <string_view>

namespace edgefl::config_detail {

bool has_non_ascii(std::string_view text);

// `text` with each byte >= 0x80 replaced by '~' (same length, same line and byte positions).
std::string with_ascii_stand_ins(std::string_view text);

}  // namespace edgefl::config_detail
