// CSV tables of numbers: feature columns and one label column.
//
//   edgefl::CsvOptions options;
//   options.label = "species";          // a header name or a column number (from 0); default: last
//   options.features = "0-3";          // numbers, ranges and header names, comma-separated;
//                                      // default: every column but the label
//   auto table = edgefl::read_csv("iris.csv", options);
//   table->dim;  table->features;  table->labels;
//
// Fields are separated by commas, may be quoted ("..." with "" for a quote) and are trimmed of
// spaces; CRLF line ends and empty lines are fine. The header is optional: `detect` takes the
// first line as one when none of its fields is a number. Every chosen field must be a finite
// number; an error names the file, the line (from 1) and the column (from 0, with its header
// name when there is one).
#pragma once

#include <cstddef>
#include <istream>
#include <string>
#include <string_view>
#include <vector>

#include "edgefl/base/status.hpp"

namespace edgefl {

struct CsvOptions {
  enum class Header { detect, yes, no };
  std::string label;     // empty: the last column
  std::string features;  // empty: every column but the label
  Header header = Header::detect;
};

struct CsvTable {
  std::size_t dim = 0;
  std::vector<float> features;  // row-major, rows * dim
  std::vector<float> labels;    // one per row
};

// What read_csv learns of a file in a quick first pass, to allocate the table once.
struct CsvSize {
  std::size_t lines = 0;
  std::size_t bytes = 0;
};

// `origin` names the text in errors (its path); `size`, when known, sizes the table once
// instead of growing it.
Result<CsvTable> parse_csv(std::istream& in, std::string_view origin, const CsvOptions& options,
                           CsvSize size = {});
Result<CsvTable> read_csv(const std::string& path, const CsvOptions& options);

}  // namespace edgefl
