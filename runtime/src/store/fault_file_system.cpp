#include "edgefl/store/fault_file_system.hpp"

#include <algorithm>
#include <cstring>

namespace edgefl {

struct FaultFileSystem::Node {
  std::vector<std::byte> data;    // what reads see
  std::vector<std::byte> synced;  // what survives a crash
};

namespace {

Status crashed_handle(const std::string& path) {
  return Status(StatusCode::io_error, "handle of " + path + " is from before a crash");
}

class FaultWritableFile final : public WritableFile {
 public:
  FaultWritableFile(FaultFileSystem& fs, std::shared_ptr<FaultFileSystem::Node> node, std::string path)
      : fs_(fs), node_(std::move(node)), path_(std::move(path)), epoch_(fs.epoch()) {}

  Status append(std::span<const std::byte> data) override {
    EDGEFL_RETURN_IF_ERROR(usable());
    EDGEFL_RETURN_IF_ERROR(fs_.begin_operation("write", path_));
    node_->data.insert(node_->data.end(), data.begin(), data.end());
    return {};
  }
  Status sync() override {
    EDGEFL_RETURN_IF_ERROR(usable());
    EDGEFL_RETURN_IF_ERROR(fs_.begin_file_sync(path_));
    node_->synced = node_->data;
    return {};
  }
  Status close() override {
    closed_ = true;
    return {};
  }

 private:
  Status usable() const {
    if (closed_) return Status(StatusCode::failed_precondition, "write to closed file " + path_);
    if (epoch_ != fs_.epoch()) return crashed_handle(path_);
    return {};
  }
  FaultFileSystem& fs_;
  std::shared_ptr<FaultFileSystem::Node> node_;
  std::string path_;
  std::uint64_t epoch_;
  bool closed_ = false;
};

class FaultSequentialFile final : public SequentialFile {
 public:
  FaultSequentialFile(const FaultFileSystem& fs, std::shared_ptr<FaultFileSystem::Node> node, std::string path)
      : fs_(fs), node_(std::move(node)), path_(std::move(path)), epoch_(fs.epoch()) {}

  Result<std::size_t> read(std::span<std::byte> out) override {
    if (epoch_ != fs_.epoch()) return crashed_handle(path_);
    std::size_t available = node_->data.size() - std::min(offset_, node_->data.size());
    std::size_t n = std::min(available, out.size());
    if (n != 0) std::memcpy(out.data(), node_->data.data() + offset_, n);
    offset_ += n;
    return n;
  }

 private:
  const FaultFileSystem& fs_;
  std::shared_ptr<FaultFileSystem::Node> node_;
  std::string path_;
  std::uint64_t epoch_;
  std::size_t offset_ = 0;
};

}  // namespace

FaultFileSystem::FaultFileSystem() { dirs_.insert("."); dirs_.insert("/"); }
FaultFileSystem::~FaultFileSystem() = default;

void FaultFileSystem::fail_from(std::uint64_t n) { fail_from_ = n; }
void FaultFileSystem::fail_once(std::uint64_t n) { fail_once_ = n; }
void FaultFileSystem::clear_faults() {
  fail_from_ = 0;
  fail_once_ = 0;
}

Status FaultFileSystem::begin_file_sync(const std::string& path) {
  ++file_syncs_[path];
  return begin_operation("fsync", path);
}

std::uint64_t FaultFileSystem::file_syncs(const std::string& path) const {
  auto it = file_syncs_.find(path);
  return it == file_syncs_.end() ? 0 : it->second;
}

Status FaultFileSystem::begin_operation(const char* operation, const std::string& path) {
  ++operations_;
  bool fail = (fail_from_ != 0 && operations_ >= fail_from_) || (fail_once_ == operations_);
  if (!fail) return {};
  return Status(StatusCode::io_error, std::string(operation) + " " + path + ": injected fault at operation " +
                                          std::to_string(operations_));
}

void FaultFileSystem::apply(std::map<std::string, std::shared_ptr<Node>>& names, const NameOp& op) {
  switch (op.kind) {
    case NameOp::Kind::link:
      names[op.path] = op.node;
      break;
    case NameOp::Kind::unlink:
      names.erase(op.path);
      break;
    case NameOp::Kind::rename: {
      auto it = names.find(op.from);
      if (it == names.end()) break;  // the source's creation never became durable
      std::shared_ptr<Node> node = it->second;
      names.erase(it);
      names[op.path] = std::move(node);
      break;
    }
  }
}

bool FaultFileSystem::touches(const NameOp& op, const std::string& dir) {
  return parent_dir(op.path) == dir || (op.kind == NameOp::Kind::rename && parent_dir(op.from) == dir);
}

void FaultFileSystem::record(NameOp op) {
  apply(names_, op);
  pending_.push_back(std::move(op));
}

Status FaultFileSystem::check_parent(const std::string& path) const {
  if (dirs_.count(parent_dir(path)) == 0) {
    return Status(StatusCode::not_found, "directory of " + path + " does not exist");
  }
  return {};
}

void FaultFileSystem::crash(Rng* rng) {
  std::size_t keep_ops = rng ? rng->below(static_cast<std::uint32_t>(pending_.size() + 1)) : 0;
  for (std::size_t i = 0; i < keep_ops; ++i) apply(durable_names_, pending_[i]);
  pending_.clear();
  names_ = durable_names_;
  for (auto& [path, node] : names_) {
    const bool only_appended = node->data.size() > node->synced.size() &&
                               std::equal(node->synced.begin(), node->synced.end(), node->data.begin());
    if (rng && only_appended) {
      std::size_t extra = node->data.size() - node->synced.size();
      node->data.resize(node->synced.size() + rng->below(static_cast<std::uint32_t>(extra + 1)));
    } else {
      node->data = node->synced;
    }
    node->synced = node->data;  // after the crash, what is on the disk is all there is
  }
  clear_faults();
  ++epoch_;
}

Result<std::vector<std::byte>> FaultFileSystem::contents(const std::string& path) const {
  auto it = names_.find(path);
  if (it == names_.end()) return Status(StatusCode::not_found, "no file " + path);
  return it->second->data;
}

Status FaultFileSystem::corrupt_byte(const std::string& path, std::uint64_t offset, std::byte value) {
  auto it = names_.find(path);
  if (it == names_.end()) return Status(StatusCode::not_found, "no file " + path);
  Node& node = *it->second;
  if (offset >= node.data.size()) return Status(StatusCode::out_of_range, "offset past end of " + path);
  node.data[offset] = value;
  if (offset < node.synced.size()) node.synced[offset] = value;
  return {};
}

Result<std::unique_ptr<WritableFile>> FaultFileSystem::new_writable(const std::string& path) {
  EDGEFL_RETURN_IF_ERROR(begin_operation("create", path));
  EDGEFL_RETURN_IF_ERROR(check_parent(path));
  auto it = names_.find(path);
  std::shared_ptr<Node> node;
  if (it != names_.end()) {
    node = it->second;
    node->data.clear();  // O_TRUNC; the truncation is durable only after sync()
  } else {
    node = std::make_shared<Node>();
    record({NameOp::Kind::link, path, node, {}});
  }
  return std::unique_ptr<WritableFile>(new FaultWritableFile(*this, node, path));
}

Result<std::unique_ptr<WritableFile>> FaultFileSystem::open_appendable(const std::string& path) {
  EDGEFL_RETURN_IF_ERROR(begin_operation("open for append", path));
  auto it = names_.find(path);
  if (it == names_.end()) return Status(StatusCode::not_found, "open for append " + path + ": no such file");
  return std::unique_ptr<WritableFile>(new FaultWritableFile(*this, it->second, path));
}

Result<std::unique_ptr<SequentialFile>> FaultFileSystem::open_sequential(const std::string& path) {
  auto it = names_.find(path);
  if (it == names_.end()) return Status(StatusCode::not_found, "open " + path + ": no such file");
  return std::unique_ptr<SequentialFile>(new FaultSequentialFile(*this, it->second, path));
}

Result<std::uint64_t> FaultFileSystem::file_size(const std::string& path) {
  auto it = names_.find(path);
  if (it == names_.end()) return Status(StatusCode::not_found, "stat " + path + ": no such file");
  return static_cast<std::uint64_t>(it->second->data.size());
}

Status FaultFileSystem::truncate(const std::string& path, std::uint64_t size) {
  EDGEFL_RETURN_IF_ERROR(begin_operation("truncate", path));
  auto it = names_.find(path);
  if (it == names_.end()) return Status(StatusCode::not_found, "truncate " + path + ": no such file");
  Node& node = *it->second;
  node.data.resize(size);
  node.synced = node.data;
  return {};
}

Status FaultFileSystem::rename(const std::string& from, const std::string& to) {
  EDGEFL_RETURN_IF_ERROR(begin_operation("rename", from + " -> " + to));
  auto it = names_.find(from);
  if (it == names_.end()) return Status(StatusCode::not_found, "rename " + from + ": no such file");
  EDGEFL_RETURN_IF_ERROR(check_parent(to));
  record({NameOp::Kind::rename, to, nullptr, from});
  return {};
}

Status FaultFileSystem::remove(const std::string& path) {
  EDGEFL_RETURN_IF_ERROR(begin_operation("remove", path));
  if (names_.count(path) == 0) return Status(StatusCode::not_found, "remove " + path + ": no such file");
  record({NameOp::Kind::unlink, path, nullptr, {}});
  return {};
}

Status FaultFileSystem::create_dir(const std::string& path) {
  EDGEFL_RETURN_IF_ERROR(begin_operation("create directory", path));
  for (std::string dir = path; dirs_.count(dir) == 0; dir = parent_dir(dir)) dirs_.insert(dir);
  return {};
}

Status FaultFileSystem::sync_dir(const std::string& path) {
  EDGEFL_RETURN_IF_ERROR(begin_operation("fsync directory", path));
  if (dirs_.count(path) == 0) return Status(StatusCode::not_found, "fsync directory " + path + ": no such directory");
  // Like a journal commit: everything up to the last operation in this directory is durable.
  std::size_t last = 0;
  for (std::size_t i = 0; i < pending_.size(); ++i) {
    if (touches(pending_[i], path)) last = i + 1;
  }
  for (std::size_t i = 0; i < last; ++i) apply(durable_names_, pending_[i]);
  pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(last));
  return {};
}

Result<std::vector<std::string>> FaultFileSystem::list_dir(const std::string& path) {
  if (dirs_.count(path) == 0) return Status(StatusCode::not_found, "list directory " + path + ": no such directory");
  // Files and subdirectories, as readdir lists them.
  std::vector<std::string> names;
  const std::size_t cut = path.size() + (path.back() == '/' ? 0 : 1);
  for (const auto& [name, node] : names_) {
    if (parent_dir(name) == path) names.push_back(name.substr(cut));
  }
  for (const std::string& dir : dirs_) {
    if (dir != path && parent_dir(dir) == path) names.push_back(dir.substr(cut));
  }
  return names;
}

}  // namespace edgefl
