// FileData: a data set in the user's own files, named by a data string.
//
//   auto file = edgefl::FileData::parse("csv:iris.csv:label=species");
//   auto data = file->load();        // every row, checked; a Dataset
//
// Names (fields separated by ':', so paths cannot hold one; options in any order after the paths):
//   csv:PATH[:label=COL][:features=COLS][:header=yes|no]   features and a label from a CSV table
//       COL: a header name or column number (from 0), default the last column;
//       COLS: comma-separated numbers, ranges (0-3) and names, default every other column;
//       header: default detected (line 1 is one when none of its fields is a number)
//   npy:X.npy:Y.npy                     features (N x D rows, or N x H x W x C images) and labels
//   (N) npz:PATH[:x=NAME][:y=NAME]          the same two arrays in one archive (default x and y;
//   both
//                                       numpy.savez and numpy.savez_compressed archives)
//   idx:IMAGES:LABELS                   IDX files (the MNIST format, optionally gzipped)
// Options of every kind:
//   :regression      targets are numbers (default: labels are classes, whole numbers from 0)
//   :classes=N       the number of classes (default: the largest label + 1)
//
// Features: uint8 arrays (and IDX images) stay bytes scaled to [0, 1]; float32 is kept, float64
// converted; every value must be finite. Errors name the file and the problem.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "edgefl/base/status.hpp"
#include "edgefl/data/csv_reader.hpp"
#include "edgefl/data/dataset.hpp"

namespace edgefl {

// Arrays inside an npz are capped at this many bytes when inflated (a zip bomb stops there).
inline constexpr std::size_t kMaxNpzMemberBytes = std::size_t{1}
                                                  << (sizeof(std::size_t) >= 8 ? 32 : 30);

class FileData {
 public:
  enum class Format { csv, npy, npz, idx };

  // Whether `name` starts with one of the file formats' prefixes (csv:, npy:, npz:, idx:).
  static bool names_file(std::string_view name);
  static Result<FileData> parse(std::string_view name);

  Format format() const { return format_; }
  const std::vector<std::string>& paths() const { return paths_; }
  bool regression() const { return regression_; }

  // Reads and checks the whole data set.
  Result<Dataset> load() const;

 private:
  Result<Dataset> load_csv() const;
  Result<Dataset> load_npy() const;
  Result<Dataset> load_npz() const;
  Result<Dataset> load_idx_files() const;

  Format format_ = Format::csv;
  std::string name_;
  std::vector<std::string> paths_;
  CsvOptions csv_;
  std::string x_member_ = "x";
  std::string y_member_ = "y";
  bool regression_ = false;
  std::size_t classes_ = 0;  // 0: the largest label + 1
};

}  // namespace edgefl
