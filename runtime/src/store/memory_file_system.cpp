#include "edgefl/store/memory_file_system.hpp"

#include <algorithm>
#include <cstring>

namespace edgefl {

namespace {

Status missing(const std::string& path) {
  return make_status(StatusCode::not_found, "no such file: " + path);
}

}  // namespace

// Appends under the file system's lock; a file removed or replaced meanwhile keeps its bytes
// here until the handle closes (as an unlinked POSIX file does).
class MemoryFileSystem::Writable final : public WritableFile {
 public:
  Writable(std::mutex& mutex, Contents contents) : mutex_(&mutex), contents_(std::move(contents)) {}
  Status append(std::span<const std::byte> data) override {
    std::lock_guard<std::mutex> lock(*mutex_);
    contents_->insert(contents_->end(), data.begin(), data.end());
    return Status();
  }
  Status sync() override { return Status(); }
  Status close() override { return Status(); }

 private:
  std::mutex* mutex_;
  Contents contents_;
};

// Reads a snapshot taken at open.
class MemoryFileSystem::Sequential final : public SequentialFile {
 public:
  explicit Sequential(std::vector<std::byte> bytes) : bytes_(std::move(bytes)) {}
  Result<std::size_t> read(std::span<std::byte> out) override {
    const std::size_t n = std::min(out.size(), bytes_.size() - position_);
    if (n > 0) std::memcpy(out.data(), bytes_.data() + position_, n);
    position_ += n;
    return n;
  }

 private:
  std::vector<std::byte> bytes_;
  std::size_t position_ = 0;
};

MemoryFileSystem::MemoryFileSystem() {
  dirs_.insert(".");
}
MemoryFileSystem::~MemoryFileSystem() = default;

std::size_t MemoryFileSystem::stored_bytes() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::size_t total = 0;
  for (const auto& [path, contents] : files_) total += contents->size();
  return total;
}

Result<MemoryFileSystem::Contents> MemoryFileSystem::find_file(const std::string& path) const {
  auto it = files_.find(path);
  if (it == files_.end()) return missing(path);
  return it->second;
}

Result<std::unique_ptr<WritableFile>> MemoryFileSystem::new_writable(const std::string& path) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (dirs_.count(parent_dir(path)) == 0) {
    return make_status(StatusCode::not_found, "no directory " + parent_dir(path) + " for " + path);
  }
  if (dirs_.count(path) != 0)
    return make_status(StatusCode::invalid_argument, path + " is a directory");
  auto contents = std::make_shared<std::vector<std::byte>>();
  files_[path] = contents;
  return std::unique_ptr<WritableFile>(std::make_unique<Writable>(mutex_, contents));
}

Result<std::unique_ptr<WritableFile>> MemoryFileSystem::open_appendable(const std::string& path) {
  std::lock_guard<std::mutex> lock(mutex_);
  Result<Contents> contents = find_file(path);
  if (!contents) return contents.status();
  return std::unique_ptr<WritableFile>(std::make_unique<Writable>(mutex_, *contents));
}

Result<std::unique_ptr<SequentialFile>> MemoryFileSystem::open_sequential(const std::string& path) {
  std::lock_guard<std::mutex> lock(mutex_);
  Result<Contents> contents = find_file(path);
  if (!contents) return contents.status();
  return std::unique_ptr<SequentialFile>(std::make_unique<Sequential>(**contents));
}

Result<std::uint64_t> MemoryFileSystem::file_size(const std::string& path) {
  std::lock_guard<std::mutex> lock(mutex_);
  Result<Contents> contents = find_file(path);
  if (!contents) return contents.status();
  return static_cast<std::uint64_t>((*contents)->size());
}

Status MemoryFileSystem::truncate(const std::string& path, std::uint64_t size) {
  std::lock_guard<std::mutex> lock(mutex_);
  Result<Contents> contents = find_file(path);
  if (!contents) return contents.status();
  if (size < (*contents)->size()) (*contents)->resize(size);
  return Status();
}

Status MemoryFileSystem::rename(const std::string& from, const std::string& to) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = files_.find(from);
  if (it == files_.end()) return missing(from);
  if (dirs_.count(parent_dir(to)) == 0)
    return make_status(StatusCode::not_found, "no directory " + parent_dir(to));
  Contents contents = it->second;
  files_.erase(it);
  files_[to] = std::move(contents);
  return Status();
}

Status MemoryFileSystem::remove(const std::string& path) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (files_.erase(path) != 0) return Status();
  if (dirs_.count(path) == 0) return missing(path);
  const std::string prefix = path == "/" ? path : path + "/";
  auto inside = [&prefix](const std::string& name) {
    return name.compare(0, prefix.size(), prefix) == 0;
  };
  auto file = files_.lower_bound(prefix);
  auto dir = dirs_.lower_bound(prefix);
  if ((file != files_.end() && inside(file->first)) || (dir != dirs_.end() && inside(*dir))) {
    return make_status(StatusCode::failed_precondition, "directory not empty: " + path);
  }
  dirs_.erase(path);
  return Status();
}

Status MemoryFileSystem::create_dir(const std::string& path) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (files_.count(path) != 0)
    return make_status(StatusCode::invalid_argument, path + " is a file");
  for (std::string dir = path; !dir.empty() && dirs_.insert(dir).second; dir = parent_dir(dir)) {
    if (dir == "/" || dir == ".") break;
  }
  return Status();
}

Status MemoryFileSystem::sync_dir(const std::string& path) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (dirs_.count(path) == 0) return missing(path);
  return Status();
}

Result<std::vector<std::string>> MemoryFileSystem::list_dir(const std::string& path) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (dirs_.count(path) == 0) return missing(path);
  const std::string prefix = path == "." ? "" : path == "/" ? path : path + "/";
  std::vector<std::string> names;
  // Names sort after their directory's prefix and before anything else: one range each.
  auto add_children = [&](const auto& sorted, auto name_of) {
    for (auto it = sorted.lower_bound(prefix); it != sorted.end(); ++it) {
      const std::string& name = name_of(*it);
      if (name.compare(0, prefix.size(), prefix) != 0) break;
      if (name == path) continue;
      if (name.find('/', prefix.size()) == std::string::npos)
        names.push_back(name.substr(prefix.size()));
    }
  };
  add_children(files_, [](const auto& entry) -> const std::string& { return entry.first; });
  add_children(dirs_, [](const std::string& dir) -> const std::string& { return dir; });
  return names;
}

}  // namespace edgefl
