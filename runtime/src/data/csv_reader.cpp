#include "edgefl/data/csv_reader.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <deque>
#include <fstream>
#include <optional>

namespace edgefl {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// Splits one line into fields, views into `line` or, for quoted fields, into `unquoted`
// (a deque: its strings stay put as it grows). False when a quote is left open.
bool split_fields(std::string_view line, std::vector<std::string_view>& fields,
                  std::deque<std::string>& unquoted) {
  fields.clear();
  unquoted.clear();
  std::size_t at = 0;
  while (true) {
    while (at < line.size() && (line[at] == ' ' || line[at] == '\t')) ++at;
    std::size_t comma;
    if (at < line.size() && line[at] == '"') {
      std::string& field = unquoted.emplace_back();
      ++at;
      while (true) {
        if (at >= line.size()) return false;
        if (line[at] == '"') {
          if (at + 1 < line.size() && line[at + 1] == '"') {
            field += '"';
            at += 2;
            continue;
          }
          ++at;
          break;
        }
        field += line[at++];
      }
      comma = line.find(',', at);
      if (!trim(line.substr(at,
                            comma == std::string_view::npos ? std::string_view::npos : comma - at))
               .empty()) {
        return false;
      }
      fields.push_back(field);
    } else {
      comma = line.find(',', at);
      fields.push_back(trim(
          line.substr(at, comma == std::string_view::npos ? std::string_view::npos : comma - at)));
    }
    if (comma == std::string_view::npos) return true;
    at = comma + 1;
  }
}

enum class NumberError { none, empty, not_a_number, non_finite };

NumberError parse_number(std::string_view text, float& out) {
  if (text.empty()) return NumberError::empty;
  if (text.front() == '+') text.remove_prefix(1);
  double value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (end != text.data() + text.size() || end == text.data()) return NumberError::not_a_number;
  if (error == std::errc::result_out_of_range) return NumberError::non_finite;
  if (error != std::errc()) return NumberError::not_a_number;
  out = static_cast<float>(value);
  return std::isfinite(out) ? NumberError::none : NumberError::non_finite;
}

bool is_number(std::string_view text) {
  float ignored;
  const NumberError error = parse_number(text, ignored);
  return error == NumberError::none || error == NumberError::non_finite;
}

std::optional<std::size_t> parse_index(std::string_view text) {
  std::size_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

class ColumnResolver {
 public:
  ColumnResolver(std::string_view origin, const std::vector<std::string>& header,
                 std::size_t columns)
      : origin_(origin), header_(header), columns_(columns) {}

  // A header name, else a column number.
  Result<std::size_t> one(std::string_view item, const char* what) const {
    auto named = std::find(header_.begin(), header_.end(), item);
    if (named != header_.end()) return static_cast<std::size_t>(named - header_.begin());
    std::optional<std::size_t> index = parse_index(item);
    if (!index)
      return error(std::string(what) + " '" + std::string(item) +
                   "' is neither a header name nor a column number");
    if (*index >= columns_) {
      return error(std::string(what) + " column " + std::to_string(*index) + " is beyond the " +
                   std::to_string(columns_) + " columns");
    }
    return *index;
  }

  // "0-3,5,name": numbers, inclusive ranges and names.
  Result<std::vector<std::size_t>> list(std::string_view text) const {
    std::vector<std::size_t> out;
    while (!text.empty()) {
      const std::size_t comma = text.find(',');
      const std::string_view item = trim(text.substr(0, comma));
      text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
      const std::size_t dash = item.find('-');
      const bool named = std::find(header_.begin(), header_.end(), item) != header_.end();
      if (!named && dash != std::string_view::npos && dash > 0) {
        Result<std::size_t> first = one(item.substr(0, dash), "feature");
        if (!first) return first.status();
        Result<std::size_t> last = one(item.substr(dash + 1), "feature");
        if (!last) return last.status();
        if (*last < *first)
          return error("feature range '" + std::string(item) + "' runs backwards");
        for (std::size_t c = *first; c <= *last; ++c) out.push_back(c);
      } else {
        Result<std::size_t> column = one(item, "feature");
        if (!column) return column.status();
        out.push_back(*column);
      }
    }
    if (out.empty()) return error("no feature columns chosen");
    return out;
  }

 private:
  Status error(const std::string& what) const {
    return make_status(StatusCode::invalid_argument, std::string(origin_) + ": " + what);
  }
  std::string_view origin_;
  const std::vector<std::string>& header_;
  std::size_t columns_;
};

}  // namespace

Result<CsvTable> parse_csv(std::istream& in, std::string_view origin, const CsvOptions& options,
                           CsvSize size) {
  const std::string where(origin);
  std::vector<std::string> header;
  std::vector<std::string_view> fields;
  std::deque<std::string> unquoted;
  std::vector<std::size_t> feature_columns;
  std::size_t label_column = 0, columns = 0, line_number = 0;
  bool first = true;
  CsvTable table;
  auto column_name = [&header](std::size_t c) {
    return "column " + std::to_string(c) + (header.empty() ? "" : " ('" + header[c] + "')");
  };
  for (std::string line; std::getline(in, line);) {
    ++line_number;
    if (trim(line).empty()) continue;
    if (!split_fields(line, fields, unquoted)) {
      return make_status(StatusCode::corrupt,
                         where + ":" + std::to_string(line_number) + ": unterminated quote");
    }
    if (first) {
      first = false;
      columns = fields.size();
      const bool is_header = options.header == CsvOptions::Header::yes ||
                             (options.header == CsvOptions::Header::detect &&
                              std::none_of(fields.begin(), fields.end(), is_number));
      if (is_header) header.assign(fields.begin(), fields.end());
      ColumnResolver resolve(origin, header, columns);
      if (options.label.empty()) {
        label_column = columns - 1;
      } else {
        Result<std::size_t> label = resolve.one(options.label, "label");
        if (!label) return label.status();
        label_column = *label;
      }
      if (options.features.empty()) {
        for (std::size_t c = 0; c < columns; ++c) {
          if (c != label_column) feature_columns.push_back(c);
        }
        if (feature_columns.empty()) {
          return make_status(StatusCode::invalid_argument,
                             where + ": one column, no features beside the label");
        }
      } else {
        Result<std::vector<std::size_t>> chosen = resolve.list(options.features);
        if (!chosen) return chosen.status();
        feature_columns = std::move(*chosen);
      }
      if (std::find(feature_columns.begin(), feature_columns.end(), label_column) !=
          feature_columns.end()) {
        return make_status(
            StatusCode::invalid_argument,
            where + ": the label " + column_name(label_column) + " is also a feature");
      }
      table.dim = feature_columns.size();
      // A row of `columns` numbers takes at least 2 * columns - 1 bytes: however many (blank)
      // lines the file has, it cannot hold more rows than that allows.
      const std::size_t rows = std::min(size.lines, size.bytes / (2 * columns - 1) + 1);
      table.features.reserve(rows * table.dim);
      table.labels.reserve(rows);
      if (is_header) continue;
    }
    if (fields.size() != columns) {
      return make_status(StatusCode::shape_mismatch, where + ":" + std::to_string(line_number) +
                                                         ": " + std::to_string(fields.size()) +
                                                         " fields, the first line has " +
                                                         std::to_string(columns));
    }
    auto number = [&](std::size_t c, std::vector<float>& out) -> Status {
      float value = 0;
      const NumberError error = parse_number(fields[c], value);
      if (error == NumberError::none) {
        out.push_back(value);
        return Status();
      }
      const std::string at =
          where + ":" + std::to_string(line_number) + ": " + column_name(c) + ": ";
      if (error == NumberError::empty)
        return make_status(StatusCode::invalid_argument, at + "empty field");
      if (error == NumberError::non_finite) {
        return make_status(StatusCode::non_finite,
                           at + "'" + std::string(fields[c]) + "' is not a finite float");
      }
      return make_status(StatusCode::invalid_argument,
                         at + "'" + std::string(fields[c]) + "' is not a number" +
                             (line_number == 1 ? " (is line 1 a header? add :header=yes)" : ""));
    };
    for (std::size_t c : feature_columns) EDGEFL_RETURN_IF_ERROR(number(c, table.features));
    EDGEFL_RETURN_IF_ERROR(number(label_column, table.labels));
  }
  if (in.bad()) return make_status(StatusCode::io_error, where + ": read failed");
  if (table.labels.empty())
    return make_status(StatusCode::invalid_argument, where + ": no data rows");
  // Growth slack (the line count was not known) would count as data in a device's memory plan;
  // a header or a few blank lines' worth is not worth a copy.
  if (table.features.capacity() - table.features.size() > table.features.size() / 64) {
    table.features.shrink_to_fit();
    table.labels.shrink_to_fit();
  }
  return table;
}

Result<CsvTable> read_csv(const std::string& path, const CsvOptions& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_status(StatusCode::not_found, path + ": cannot open");
  // One quick pass counting lines, so the table is allocated once at its size.
  CsvSize size{1, 0};
  std::vector<char> block(std::size_t{1} << 20);
  while (in.read(block.data(), static_cast<std::streamsize>(block.size())) || in.gcount() > 0) {
    size.lines +=
        static_cast<std::size_t>(std::count(block.data(), block.data() + in.gcount(), '\n'));
    size.bytes += static_cast<std::size_t>(in.gcount());
  }
  if (in.bad()) return make_status(StatusCode::io_error, path + ": read failed");
  in.clear();
  in.seekg(0);
  return parse_csv(in, path, options, size);
}

}  // namespace edgefl
