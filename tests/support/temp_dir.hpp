// TempDir: a fresh empty directory for one test, removed with everything in it when the
// TempDir goes out of scope.
//
//   TempDir dir;
//   write(dir.file("model.bin"));        // dir.path() + "/model.bin"
#pragma once

#include <string>

namespace edgefl::testing {

class TempDir {
 public:
  TempDir();  // under the system temp directory, named edgefl-test-XXXXXX; aborts if it cannot
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace edgefl::testing
