#include "edgefl/config/option_table.hpp"

#include <CLI/CLI.hpp>

#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

#define TOML_HEADER_ONLY 1
#include <toml++/toml.h>

#include "toml_precheck.hpp"

namespace edgefl {

namespace {

Status type_error(std::string_view origin, std::string_view key, std::string_view expected) {
  return make_status(StatusCode::invalid_argument, std::string(origin) + ": '" + std::string(key) +
                                                       "' must be " + std::string(expected));
}

template <typename Int>
Status assign_integer(const toml::node& node, std::string_view origin, std::string_view key,
                      Int* target) {
  std::optional<int64_t> value = node.value_exact<int64_t>();
  if (!value) return type_error(origin, key, "an integer");
  if (*value < 0 || static_cast<uint64_t>(*value) > std::numeric_limits<Int>::max()) {
    return type_error(origin, key, "a non-negative integer in range");
  }
  *target = static_cast<Int>(*value);
  return Status();
}

template <typename Real>
Status assign_real(const toml::node& node, std::string_view origin, std::string_view key,
                   Real* target) {
  // TOML writes 1 and 1.0 differently; both mean the number one here.
  if (std::optional<double> real = node.value_exact<double>()) {
    *target = static_cast<Real>(*real);
  } else if (std::optional<int64_t> integer = node.value_exact<int64_t>()) {
    *target = static_cast<Real>(*integer);
  } else {
    return type_error(origin, key, "a number");
  }
  return Status();
}

Status assign(const toml::node& node, std::string_view origin, std::string_view key,
              const OptionTable::Target& target) {
  if (const OptionTable::Choice* choice = std::get_if<OptionTable::Choice>(&target)) {
    std::optional<std::string> value = node.value_exact<std::string>();
    if (!value) return type_error(origin, key, "a name (a string)");
    Status set = choice->set(*value);
    if (!set.ok()) return make_status(StatusCode::invalid_argument, std::string(origin) + ": '" + std::string(key) +
                                                                        "': " + set.message());
    return Status();
  }
  return std::visit(
      [&](auto pointer) -> Status {
        using T = std::remove_pointer_t<decltype(pointer)>;
        if constexpr (std::is_same_v<decltype(pointer), OptionTable::Choice>) {
          return Status();  // handled above
        } else if constexpr (std::is_same_v<T, std::string>) {
          std::optional<std::string> value = node.value_exact<std::string>();
          if (!value) return type_error(origin, key, "a string");
          *pointer = *value;
          return Status();
        } else if constexpr (std::is_same_v<T, bool>) {
          std::optional<bool> value = node.value_exact<bool>();
          if (!value) return type_error(origin, key, "true or false");
          *pointer = *value;
          return Status();
        } else if constexpr (std::is_floating_point_v<T>) {
          return assign_real(node, origin, key, pointer);
        } else {
          return assign_integer(node, origin, key, pointer);
        }
      },
      target);
}

}  // namespace

namespace {
Status parse_toml(std::string_view toml_text, std::string_view origin, toml::table& document) {
  try {
    document = toml::parse(toml_text, origin);
    return Status();
  } catch (const toml::parse_error& error) {
    std::ostringstream message;
    message << origin << ":" << error.source().begin.line << ":" << error.source().begin.column
            << ": " << error.description();
    return make_status(StatusCode::invalid_argument, message.str());
  }
}
}  // namespace

Status OptionTable::apply_toml(std::string_view toml_text, std::string_view origin) {
  toml::table document;
  if (config_detail::has_non_ascii(toml_text)) {
    // Errors are found on a copy toml++ can report safely (toml_precheck.hpp); non-ASCII
    // characters show there as '~'.
    Status stand_in = parse_toml(config_detail::with_ascii_stand_ins(toml_text), origin, document);
    if (!stand_in.ok()) {
      return make_status(StatusCode::invalid_argument,
                         stand_in.message() + " (non-ASCII characters shown as '~')");
    }
  }
  EDGEFL_RETURN_IF_ERROR(parse_toml(toml_text, origin, document));

  Status status;
  // Walk every leaf; a leaf's dotted path must name an entry.
  auto visit_table = [&](auto& self, const toml::table& table, const std::string& prefix) -> void {
    for (const auto& [name, node] : table) {
      if (!status.ok()) return;
      std::string key = prefix.empty() ? std::string(name.str())
                                       : prefix + "." + std::string(name.str());
      if (const toml::table* child = node.as_table()) {
        self(self, *child, key);
        continue;
      }
      const Entry* entry = nullptr;
      for (const Entry& candidate : entries_) {
        if (candidate.key == key) entry = &candidate;
      }
      if (entry == nullptr) {
        status = make_status(StatusCode::invalid_argument,
                             std::string(origin) + ": unknown setting '" + key + "'");
        return;
      }
      status = assign(node, origin, key, entry->target);
    }
  };
  visit_table(visit_table, document, "");
  return status;
}

Status OptionTable::apply_toml_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return make_status(StatusCode::not_found, "cannot open config file '" + path + "'");
  std::ostringstream text;
  text << file.rdbuf();
  if (file.bad()) return make_status(StatusCode::io_error, "cannot read config file '" + path + "'");
  return apply_toml(text.str(), path);
}

std::string OptionTable::flag_name(std::string_view key) {
  std::string flag = "--";
  for (char c : key) flag += (c == '.' || c == '_') ? '-' : c;
  return flag;
}

void OptionTable::add_flags(CLI::App& app) {
  for (Entry& entry : entries_) {
    std::string flag = flag_name(entry.key);
    std::visit(
        [&](auto& pointer) {
          using T = std::remove_pointer_t<std::decay_t<decltype(pointer)>>;
          if constexpr (std::is_same_v<std::decay_t<decltype(pointer)>, Choice>) {
            const Choice& choice = pointer;
            app.add_option_function<std::string>(
                   flag,
                   [choice, flag](const std::string& text) {
                     Status set = choice.set(text);
                     if (!set.ok()) throw CLI::ValidationError(flag, set.message());
                   },
                   entry.help)
                ->default_str(choice.get());
          } else if constexpr (std::is_same_v<T, bool>) {
            app.add_flag(flag, *pointer, entry.help);
          } else {
            app.add_option(flag, *pointer, entry.help)->capture_default_str();
          }
        },
        entry.target);
  }
}

Status OptionTable::parse_command_line(int argc, const char* const* argv,
                                       const std::string& program, const std::string& description,
                                       std::string* help_text) {
  // The file is applied before CLI11 parses, so that flags override it.
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--config") == 0) EDGEFL_RETURN_IF_ERROR(apply_toml_file(argv[i + 1]));
  }
  CLI::App app(description, program);
  std::string config_path;
  app.add_option("--config", config_path, "TOML file with any of the settings below");
  add_flags(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    if (help_text != nullptr) *help_text = app.help();
    return make_status(StatusCode::cancelled, "help requested");
  } catch (const CLI::ParseError& error) {
    return make_status(StatusCode::invalid_argument, error.what());
  }
  return Status();
}

}  // namespace edgefl
