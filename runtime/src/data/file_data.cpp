#include "edgefl/data/file_data.hpp"

#include <charconv>
#include <cmath>
#include <cstring>

#include "../base/text_parts.hpp"
#include "edgefl/data/idx_reader.hpp"
#include "edgefl/data/npy_reader.hpp"
#include "edgefl/data/zip_reader.hpp"

namespace edgefl {

namespace {

// More would make per-class histograms absurd; a label this large is a mistake.
constexpr std::size_t kMaxClasses = std::size_t{1} << 16;

struct FormatName {
  std::string_view prefix;
  FileData::Format format;
  std::size_t paths;
};
constexpr FormatName kFormats[] = {{"csv", FileData::Format::csv, 1},
                                   {"npy", FileData::Format::npy, 2},
                                   {"npz", FileData::Format::npz, 1},
                                   {"idx", FileData::Format::idx, 2}};

// The number of classes the labels need (0 for regression), after checking every label.
Result<std::size_t> check_labels(std::span<const float> targets, const std::string& origin,
                                 bool regression, std::size_t classes) {
  for (std::size_t i = 0; i < targets.size(); ++i) {
    const float y = targets[i];
    if (!std::isfinite(y)) {
      return make_status(StatusCode::non_finite,
                         origin + ": target " + std::to_string(i) + " is not finite");
    }
    if (regression) continue;
    const std::size_t limit = classes != 0 ? classes : kMaxClasses;
    if (y < 0 || y != std::floor(y) || y >= float(limit)) {
      return make_status(StatusCode::out_of_range,
                         origin + ": label " + std::to_string(y) + " of row " + std::to_string(i) +
                             " is not a class in [0, " + std::to_string(limit) +
                             ") (numeric targets need :regression)");
    }
  }
  if (regression) return std::size_t{0};
  if (classes != 0) return classes;
  float largest = 0;
  for (float y : targets) largest = std::max(largest, y);
  return static_cast<std::size_t>(largest) + 1;
}

Result<std::vector<float>> targets_of(const NpyArray& y, const std::string& origin) {
  if (y.shape.empty() || y.shape.size() > 2 || (y.shape.size() == 2 && y.shape[1] != 1)) {
    return make_status(StatusCode::shape_mismatch, origin + ": labels of shape " + y.shape_text() +
                                                       " (one per sample: N or Nx1)");
  }
  std::vector<float> targets(y.element_count());
  for (std::size_t i = 0; i < targets.size(); ++i) targets[i] = static_cast<float>(y.value(i));
  return targets;
}

Result<Dataset> dataset_of(NpyArray x, const std::string& x_origin, std::vector<float> targets,
                           const std::string& y_origin, std::size_t classes) {
  if (x.shape.empty())
    return make_status(StatusCode::shape_mismatch,
                       x_origin + ": a scalar, not an array of samples");
  if (x.shape[0] != targets.size()) {
    return make_status(StatusCode::shape_mismatch,
                       x_origin + " holds " + std::to_string(x.shape[0]) + " samples (shape " +
                           x.shape_text() + ") but " + y_origin + " holds " +
                           std::to_string(targets.size()) + " labels");
  }
  if (x.shape[0] == 0) return make_status(StatusCode::invalid_argument, x_origin + ": no samples");
  std::size_t dim = 1;
  for (std::size_t k = 1; k < x.shape.size(); ++k) dim *= static_cast<std::size_t>(x.shape[k]);
  if (dim == 0)
    return make_status(StatusCode::shape_mismatch,
                       x_origin + ": samples of shape " + x.shape_text() + " hold no values");
  if (x.type == NpyType::u1)
    return Dataset::from_bytes(dim, std::move(x.data), std::move(targets), ByteScaling{}, classes);
  if (!npy_type_is_float(x.type)) {
    return make_status(StatusCode::invalid_argument, x_origin + ": features of dtype " +
                                                         std::string(npy_type_name(x.type)) +
                                                         " (uint8, float32 or float64 only)");
  }
  std::vector<float> features(x.element_count());
  for (std::size_t i = 0; i < features.size(); ++i) {
    features[i] = static_cast<float>(x.value(i));
    if (!std::isfinite(features[i])) {
      return make_status(StatusCode::non_finite, x_origin + ": value " + std::to_string(i) +
                                                     " (sample " + std::to_string(i / dim) +
                                                     ") is not a finite float");
    }
  }
  x.data = {};  // free the raw copy before the dataset takes the floats
  return Dataset::from_floats(dim, std::move(features), std::move(targets), classes);
}

Result<Dataset> dataset_of_arrays(NpyArray x, const std::string& x_origin, const NpyArray& y,
                                  const std::string& y_origin, bool regression,
                                  std::size_t classes) {
  Result<std::vector<float>> targets = targets_of(y, y_origin);
  if (!targets) return targets.status();
  Result<std::size_t> needed = check_labels(*targets, y_origin, regression, classes);
  if (!needed) return needed.status();
  return dataset_of(std::move(x), x_origin, std::move(*targets), y_origin, *needed);
}

}  // namespace

bool FileData::names_file(std::string_view name) {
  for (const FormatName& f : kFormats) {
    if (name.size() > f.prefix.size() && name.substr(0, f.prefix.size()) == f.prefix &&
        name[f.prefix.size()] == ':') {
      return true;
    }
  }
  return false;
}

Result<FileData> FileData::parse(std::string_view name) {
  const std::string quoted = "data '" + std::string(name) + "'";
  auto invalid = [&quoted](const std::string& what) {
    return make_status(StatusCode::invalid_argument, quoted + ": " + what);
  };
  std::vector<std::string_view> parts = split(name, ':');
  const FormatName* format = nullptr;
  for (const FormatName& f : kFormats) {
    if (parts[0] == f.prefix) format = &f;
  }
  if (format == nullptr) return invalid("not csv:, npy:, npz: or idx:");
  FileData data;
  data.format_ = format->format;
  data.name_ = name;
  if (parts.size() < 1 + format->paths) {
    return invalid(std::string(format->prefix) + " needs " + std::to_string(format->paths) +
                   " path" + (format->paths > 1 ? "s" : ""));
  }
  for (std::size_t k = 1; k <= format->paths; ++k) {
    if (parts[k].empty() || parts[k].find('=') != std::string_view::npos)
      return invalid("path " + std::to_string(k) + " is missing");
    data.paths_.emplace_back(parts[k]);
  }
  for (std::size_t k = 1 + format->paths; k < parts.size(); ++k) {
    const std::string_view option = parts[k];
    const std::size_t equals = option.find('=');
    const std::string_view key = option.substr(0, equals);
    const std::string value(equals == std::string_view::npos ? std::string_view()
                                                             : option.substr(equals + 1));
    const bool csv = data.format_ == Format::csv, npz = data.format_ == Format::npz;
    if (key == "regression" && equals == std::string_view::npos) {
      data.regression_ = true;
    } else if (key == "classes" && !value.empty()) {
      auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), data.classes_);
      if (error != std::errc() || end != value.data() + value.size() || data.classes_ == 0 ||
          data.classes_ > kMaxClasses) {
        return invalid("classes=" + value + " is not a count in 1.." + std::to_string(kMaxClasses));
      }
    } else if (csv && key == "label" && !value.empty()) {
      data.csv_.label = value;
    } else if (csv && key == "features" && !value.empty()) {
      data.csv_.features = value;
    } else if (csv && key == "header" && (value == "yes" || value == "no")) {
      data.csv_.header = value == "yes" ? CsvOptions::Header::yes : CsvOptions::Header::no;
    } else if (npz && (key == "x" || key == "y") && !value.empty()) {
      (key == "x" ? data.x_member_ : data.y_member_) = value;
    } else {
      return invalid("option '" + std::string(option) + "' is not one " +
                     std::string(format->prefix) + ": takes (see the data names in the README)");
    }
  }
  if (data.regression_ && data.classes_ != 0)
    return invalid(":regression and :classes= exclude each other");
  return data;
}

Result<Dataset> FileData::load() const {
  Result<Dataset> data = Dataset();
  switch (format_) {
    case Format::csv:
      data = load_csv();
      break;
    case Format::npy:
      data = load_npy();
      break;
    case Format::npz:
      data = load_npz();
      break;
    case Format::idx:
      data = load_idx_files();
      break;
  }
  if (!data) return data.status().with_context("data '" + name_ + "'");
  return data;
}

Result<Dataset> FileData::load_csv() const {
  Result<CsvTable> table = read_csv(paths_[0], csv_);
  if (!table) return table.status();
  Result<std::size_t> classes =
      check_labels(table->labels, paths_[0] + " (label column)", regression_, classes_);
  if (!classes) return classes.status();
  return Dataset::from_floats(table->dim, std::move(table->features), std::move(table->labels),
                              *classes);
}

Result<Dataset> FileData::load_npy() const {
  Result<NpyArray> y = read_npy(paths_[1]);
  if (!y) return y.status();
  Result<NpyArray> x = read_npy(paths_[0]);
  if (!x) return x.status();
  return dataset_of_arrays(std::move(*x), paths_[0], *y, paths_[1], regression_, classes_);
}

Result<Dataset> FileData::load_npz() const {
  Result<ZipArchive> archive = ZipArchive::open(paths_[0]);
  if (!archive) return archive.status();
  auto member = [&archive](const std::string& name) -> Result<NpyArray> {
    const ZipMember* m = archive->find(name + ".npy");
    if (m == nullptr) m = archive->find(name);
    if (m == nullptr) {
      std::string present;
      for (const ZipMember& other : archive->members())
        present += (present.empty() ? "" : ", ") + other.name;
      return make_status(StatusCode::not_found, archive->origin() + ": no array '" + name +
                                                    "' (it holds: " + present + ")");
    }
    Result<std::vector<uint8_t>> bytes = archive->extract(*m, kMaxNpzMemberBytes);
    if (!bytes) return bytes.status();
    return parse_npy(std::move(*bytes), archive->origin() + ":" + m->name);
  };
  Result<NpyArray> y = member(y_member_);
  if (!y) return y.status();
  Result<NpyArray> x = member(x_member_);
  if (!x) return x.status();
  return dataset_of_arrays(std::move(*x), paths_[0] + ":" + x_member_, *y,
                           paths_[0] + ":" + y_member_, regression_, classes_);
}

Result<Dataset> FileData::load_idx_files() const {
  // IDX labels are bytes: every one is below 256; the class count follows once all are read.
  Result<Dataset> data = load_idx(paths_[0], paths_[1], classes_ != 0 ? classes_ : 256);
  if (!data) return data.status();
  Result<std::size_t> classes = check_labels(data->targets(), paths_[1], regression_, classes_);
  if (!classes) return classes.status();
  EDGEFL_RETURN_IF_ERROR(data->set_num_classes(*classes));
  return data;
}

}  // namespace edgefl
