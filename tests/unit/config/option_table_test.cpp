#include <doctest/doctest.h>

#include <CLI/CLI.hpp>

#include <cstdio>

#include "edgefl/config/option_table.hpp"

using edgefl::OptionTable;

namespace {

struct Settings {
  std::string model = "mlp:4-3-2";
  uint32_t rounds = 3;
  float learning_rate = 0.1f;
  double deadline_s = 5.0;
  uint64_t seed = 1;
  bool resume = false;
};

OptionTable make_table(Settings& s) {
  OptionTable table;
  table.add("model", &s.model, "model spec");
  table.add("rounds", &s.rounds, "rounds");
  table.add("train.learning_rate", &s.learning_rate, "lr");
  table.add("round.deadline_s", &s.deadline_s, "deadline");
  table.add("seed", &s.seed, "seed");
  table.add("resume", &s.resume, "resume");
  return table;
}

}  // namespace

TEST_CASE("option table: TOML fills nested and top-level keys, integers count as reals") {
  Settings s;
  OptionTable table = make_table(s);
  REQUIRE(table
              .apply_toml("model = \"mlp:8-4-2\"\nrounds = 7\nseed = 99\nresume = true\n"
                          "[train]\nlearning_rate = 0.25\n[round]\ndeadline_s = 2\n",
                          "test.toml")
              .ok());
  CHECK(s.model == "mlp:8-4-2");
  CHECK(s.rounds == 7);
  CHECK(s.seed == 99);
  CHECK(s.resume);
  CHECK(s.learning_rate == doctest::Approx(0.25));
  CHECK(s.deadline_s == doctest::Approx(2.0));
}

TEST_CASE("option table: flags override the file") {
  Settings s;
  OptionTable table = make_table(s);
  REQUIRE(table.apply_toml("rounds = 7\n[train]\nlearning_rate = 0.25\n", "test.toml").ok());
  CLI::App app;
  table.add_flags(app);
  const char* argv[] = {"prog", "--train-learning-rate", "0.5", "--resume"};
  REQUIRE_NOTHROW(app.parse(4, argv));
  CHECK(s.learning_rate == doctest::Approx(0.5));
  CHECK(s.rounds == 7);
  CHECK(s.resume);
}

TEST_CASE("option table: mistakes are named") {
  Settings s;
  OptionTable table = make_table(s);
  struct Case {
    const char* toml;
    const char* fragment;
  };
  const Case cases[] = {
      {"roundz = 3\n", "unknown setting 'roundz'"},
      {"[train]\nlr = 3\n", "unknown setting 'train.lr'"},
      {"rounds = \"three\"\n", "'rounds' must be an integer"},
      {"rounds = -1\n", "'rounds' must be a non-negative integer"},
      {"rounds = 99999999999\n", "in range"},
      {"model = 3\n", "'model' must be a string"},
      {"resume = 1\n", "'resume' must be true or false"},
      {"[train]\nlearning_rate = \"fast\"\n", "'train.learning_rate' must be a number"},
      {"rounds = = 3\n", "test.toml:1:"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.toml);
    edgefl::Status status = table.apply_toml(c.toml, "test.toml");
    REQUIRE_FALSE(status.ok());
    CHECK(status.message().find(c.fragment) != std::string::npos);
  }
  CHECK(table.apply_toml_file("/nonexistent/edgefl.toml").code() == edgefl::StatusCode::not_found);
}

TEST_CASE("option table: non-ASCII outside strings is an error found before toml++ could misbehave") {
  // toml++ 3.3.0's error paths test such characters for whitespace through
  // __builtin_unreachable(); the fuzzer's inputs are in tests/fuzz/config/corpus.
  Settings s;
  OptionTable table = make_table(s);
  for (const char* toml : {"rounds = \xcf\x96\n", "rounds = 3 \xc3\xa9\n", "model = \"x\"\n\xe3\x80\x81 = 1\n",
                           "model = 0\"mlp:\xc8\xa6\"\n", "model = \"\\\xc3\xa9\"\n"}) {
    CAPTURE(toml);
    edgefl::Status status = table.apply_toml(toml, "test.toml");
    REQUIRE_FALSE(status.ok());
    CHECK(status.message().find("test.toml:") == 0);
    CHECK(status.message().find("non-ASCII characters shown as '~'") != std::string::npos);
  }
  // Inside strings and comments it is text like any other.
  CHECK(table.apply_toml("model = \"caf\xc3\xa9\" # \xcf\x96\nrounds = 2\n", "test.toml").ok());
  CHECK(s.model == "caf\xc3\xa9");
  CHECK(s.rounds == 2);
}

TEST_CASE("option table: flag names come from keys") {
  CHECK(OptionTable::flag_name("train.learning_rate") == "--train-learning-rate");
  CHECK(OptionTable::flag_name("rounds") == "--rounds");
}

TEST_CASE("option table: a command line reads --config first, then flags") {
  Settings s;
  OptionTable table = make_table(s);
  std::string path = std::string(EDGEFL_BINARY_DIR) + "/option_table_test.toml";
  {
    FILE* file = std::fopen(path.c_str(), "w");
    REQUIRE(file != nullptr);
    std::fputs("rounds = 9\nseed = 4\n", file);
    std::fclose(file);
  }
  const char* argv[] = {"prog", "--seed", "5", "--config", path.c_str()};
  std::string help;
  REQUIRE(table.parse_command_line(5, argv, "prog", "test program", &help).ok());
  CHECK(s.rounds == 9);
  CHECK(s.seed == 5);

  const char* help_argv[] = {"prog", "--help"};
  CHECK(table.parse_command_line(2, help_argv, "prog", "test program", &help).code() ==
        edgefl::StatusCode::cancelled);
  CHECK(help.find("--train-learning-rate") != std::string::npos);

  const char* bad_argv[] = {"prog", "--rounds", "many"};
  edgefl::Status bad = table.parse_command_line(3, bad_argv, "prog", "test program", &help);
  CHECK(bad.code() == edgefl::StatusCode::invalid_argument);
  CHECK(bad.message().find("rounds") != std::string::npos);
}

namespace {

enum class Fruit { apple, pear };

edgefl::Result<Fruit> parse_fruit(std::string_view name) {
  if (name == "apple") return Fruit::apple;
  if (name == "pear") return Fruit::pear;
  return edgefl::make_status(edgefl::StatusCode::unknown_enum, "unknown fruit '" + std::string(name) + "'");
}

std::string_view fruit_name(Fruit fruit) { return fruit == Fruit::apple ? "apple" : "pear"; }

}  // namespace

TEST_CASE("option table: a choice is parsed into its enum once, from TOML or a flag, and a bad name is named") {
  Fruit fruit = Fruit::apple;
  OptionTable table;
  table.add_choice("basket.fruit", &fruit, parse_fruit, fruit_name, "which fruit");
  REQUIRE(table.apply_toml("[basket]\nfruit = \"pear\"\n", "test.toml").ok());
  CHECK(fruit == Fruit::pear);

  edgefl::Status bad = table.apply_toml("[basket]\nfruit = \"plum\"\n", "test.toml");
  CHECK(bad.code() == edgefl::StatusCode::invalid_argument);
  CHECK(bad.message().find("test.toml: 'basket.fruit': unknown fruit 'plum'") != std::string::npos);
  CHECK(fruit == Fruit::pear);
  CHECK_FALSE(table.apply_toml("[basket]\nfruit = 3\n", "test.toml").ok());

  CLI::App app;
  table.add_flags(app);
  const char* apple[] = {"prog", "--basket-fruit", "apple"};
  REQUIRE_NOTHROW(app.parse(3, apple));
  CHECK(fruit == Fruit::apple);
  const char* plum[] = {"prog", "--basket-fruit", "plum"};
  CHECK_THROWS_AS(app.parse(3, plum), CLI::ValidationError);
}
