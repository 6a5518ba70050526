// One CSV text per input, read with the default columns and with chosen ones. The reader
// returns a status or a table of finite numbers whose size matches its dimension.
#include <cmath>
#include <cstdlib>
#include <sstream>
#include <string>

#include "edgefl/data/csv_reader.hpp"
#include "fuzz_entry.hpp"

namespace edgefl::fuzz {

namespace {

void check(const Result<CsvTable>& table) {
  if (!table.ok()) {
    if (table.status().code() == StatusCode::ok) std::abort();
    return;
  }
  if (table->dim == 0 || table->features.size() != table->labels.size() * table->dim) std::abort();
  for (float v : table->features) {
    if (!std::isfinite(v)) std::abort();
  }
}

}  // namespace

int run_one(const uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  for (const CsvOptions& options :
       {CsvOptions{}, CsvOptions{"0", "1-3,b", CsvOptions::Header::yes}}) {
    std::istringstream in(text);
    check(parse_csv(in, "input.csv", options));
  }
  return 0;
}

}  // namespace edgefl::fuzz
