// FileSystem over POSIX calls. Every error names the operation, the path and errno's text.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "edgefl/store/file_system.hpp"
#include "edgefl/base/unique_fd.hpp"

namespace edgefl {

namespace {

Status errno_status(const char* operation, const std::string& path, int error) {
  StatusCode code = (error == ENOENT) ? StatusCode::not_found : StatusCode::io_error;
  return Status(code, std::string(operation) + " " + path + ": " + std::strerror(error));
}

Result<UniqueFd> open_fd(const std::string& path, int flags, const char* operation) {
  int fd;
  do {
    fd = ::open(path.c_str(), flags | O_CLOEXEC, 0644);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return errno_status(operation, path, errno);
  return UniqueFd(fd);
}

Status fsync_fd(int fd, const std::string& path) {
  int rc;
  do {
    rc = ::fsync(fd);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) return errno_status("fsync", path, errno);
  return {};
}

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(UniqueFd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}

  Status append(std::span<const std::byte> data) override {
    if (!fd_.valid()) return Status(StatusCode::failed_precondition, "write to closed file " + path_);
    while (!data.empty()) {
      ssize_t written = ::write(fd_.get(), data.data(), data.size());
      if (written < 0) {
        if (errno == EINTR) continue;
        return errno_status("write", path_, errno);
      }
      data = data.subspan(static_cast<std::size_t>(written));
    }
    return {};
  }

  Status sync() override {
    if (!fd_.valid()) return Status(StatusCode::failed_precondition, "sync of closed file " + path_);
    return fsync_fd(fd_.get(), path_);
  }

  Status close() override {
    if (fd_.close() != 0) return errno_status("close", path_, errno);
    return {};
  }

 private:
  UniqueFd fd_;
  std::string path_;
};

class PosixSequentialFile final : public SequentialFile {
 public:
  PosixSequentialFile(UniqueFd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}

  Result<std::size_t> read(std::span<std::byte> out) override {
    for (;;) {
      ssize_t got = ::read(fd_.get(), out.data(), out.size());
      if (got >= 0) return static_cast<std::size_t>(got);
      if (errno != EINTR) return errno_status("read", path_, errno);
    }
  }

 private:
  UniqueFd fd_;
  std::string path_;
};

class PosixFileSystem final : public FileSystem {
 public:
  Result<std::unique_ptr<WritableFile>> new_writable(const std::string& path) override {
    Result<UniqueFd> fd = open_fd(path, O_WRONLY | O_CREAT | O_TRUNC, "create");
    if (!fd) return fd.status();
    return std::unique_ptr<WritableFile>(new PosixWritableFile(std::move(*fd), path));
  }

  Result<std::unique_ptr<WritableFile>> open_appendable(const std::string& path) override {
    Result<UniqueFd> fd = open_fd(path, O_WRONLY | O_APPEND, "open for append");
    if (!fd) return fd.status();
    return std::unique_ptr<WritableFile>(new PosixWritableFile(std::move(*fd), path));
  }

  Result<std::unique_ptr<SequentialFile>> open_sequential(const std::string& path) override {
    Result<UniqueFd> fd = open_fd(path, O_RDONLY, "open");
    if (!fd) return fd.status();
    return std::unique_ptr<SequentialFile>(new PosixSequentialFile(std::move(*fd), path));
  }

  Result<std::uint64_t> file_size(const std::string& path) override {
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0) return errno_status("stat", path, errno);
    return static_cast<std::uint64_t>(info.st_size);
  }

  Status truncate(const std::string& path, std::uint64_t size) override {
    Result<UniqueFd> fd = open_fd(path, O_WRONLY, "open for truncate");
    if (!fd) return fd.status();
    if (::ftruncate(fd->get(), static_cast<off_t>(size)) != 0) return errno_status("truncate", path, errno);
    return fsync_fd(fd->get(), path);
  }

  Status rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) {
      return errno_status("rename", from + " -> " + to, errno);
    }
    return {};
  }

  Status remove(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return errno_status("remove", path, errno);
    return {};
  }

  Status create_dir(const std::string& path) override {
    std::error_code error;
    std::filesystem::create_directories(path, error);
    if (error) return Status(StatusCode::io_error, "create directory " + path + ": " + error.message());
    return {};
  }

  Status sync_dir(const std::string& path) override {
    Result<UniqueFd> fd = open_fd(path, O_RDONLY | O_DIRECTORY, "open directory");
    if (!fd) return fd.status();
    return fsync_fd(fd->get(), path);
  }

  Result<std::vector<std::string>> list_dir(const std::string& path) override {
    std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(path.c_str()), &::closedir);
    if (!dir) return errno_status("list directory", path, errno);
    std::vector<std::string> names;
    // readdir returns null both at the end and on error; only errno tells them apart (a 32-bit
    // build without large-file offsets fails here with EOVERFLOW on a 64-bit file system).
    errno = 0;
    while (const dirent* entry = ::readdir(dir.get())) {
      std::string name = entry->d_name;
      if (name != "." && name != "..") names.push_back(std::move(name));
      errno = 0;
    }
    if (errno != 0) return errno_status("list directory", path, errno);
    return names;
  }
};

}  // namespace

FileSystem& posix_file_system() {
  static PosixFileSystem file_system;  // stateless: no mutable global state
  return file_system;
}

std::string join_path(const std::string& dir, const std::string& name) {
  if (dir.empty()) return name;
  if (dir.back() == '/') return dir + name;
  return dir + "/" + name;
}

std::string parent_dir(const std::string& path) {
  std::size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace edgefl
