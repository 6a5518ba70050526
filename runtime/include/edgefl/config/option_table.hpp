// OptionTable: one list of settings that both a TOML file and command-line flags fill in.
//
//   ServerConfig config;
//   OptionTable table;
//   table.add("rounds", &config.rounds, "federated rounds to run");
//   table.add("train.learning_rate", &config.train.learning_rate, "local learning rate");
//   EDGEFL_RETURN_IF_ERROR(table.apply_toml_file("server.toml"));   // [train] learning_rate = 0.1
//   table.add_flags(app);                                             // --train-learning-rate 0.1
//
//   table.add_choice("train.optimizer", &config.optimizer, parse_optimizer, optimizer_name, "...");
//
// A key "a.b_c" is `b_c` inside table `[a]` in TOML and the flag `--a-b-c`; a key without a dot
// is a top-level TOML key and `--key`. A choice is a name in both, parsed once into its enum. Unknown TOML keys and values of the wrong type are
// errors naming the file, the key and what was expected, so typos never pass silently.
// The table stores pointers: the targets must outlive it.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "edgefl/base/status.hpp"

namespace CLI {
class App;
}

namespace edgefl {

class OptionTable {
 public:
  // An enum setting written as a name: `set` parses a name into the target, `get` names it.
  struct Choice {
    std::function<Status(std::string_view)> set;
    std::function<std::string()> get;
  };
  using Target = std::variant<std::string*, bool*, float*, double*, uint32_t*, uint64_t*, Choice>;

  struct Entry {
    std::string key;
    Target target;
    std::string help;
  };

  template <typename T>
  void add(std::string key, T* target, std::string help) {
    entries_.push_back(Entry{std::move(key), Target(target), std::move(help)});
  }

  template <typename E>
  void add_choice(std::string key, E* target, Result<E> (*parse)(std::string_view),
                  std::string_view (*name)(E), std::string help) {
    Choice choice{[target, parse](std::string_view text) -> Status {
                    Result<E> value = parse(text);
                    if (!value) return value.status();
                    *target = *value;
                    return Status();
                  },
                  [target, name] { return std::string(name(*target)); }};
    entries_.push_back(Entry{std::move(key), Target(std::move(choice)), std::move(help)});
  }

  const std::vector<Entry>& entries() const { return entries_; }

  // Applies a TOML document; `origin` names it in errors (a file name).
  Status apply_toml(std::string_view toml_text, std::string_view origin);
  Status apply_toml_file(const std::string& path);

  // Registers one CLI11 option per entry (flag name derived from the key, see above).
  void add_flags(CLI::App& app);

  // The whole command line of a program: `--config FILE` (TOML, applied first) then every
  // flag. Returns `cancelled` with usage text in `help_text` when --help was given, and
  // invalid_argument naming the flag for anything else wrong.
  Status parse_command_line(int argc, const char* const* argv, const std::string& program,
                            const std::string& description, std::string* help_text);

  static std::string flag_name(std::string_view key);

 private:
  std::vector<Entry> entries_;
};

}  // namespace edgefl
