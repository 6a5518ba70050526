#include "child_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "edgefl/base/unique_fd.hpp"
#include "wait_until.hpp"

namespace edgefl::testing {

ChildProcess::ChildProcess(const std::string& program, const std::vector<std::string>& args,
                           const std::string& log_path)
    : log_path_(log_path) {
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(program.c_str()));
  for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  const UniqueFd log(::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  pid_ = ::fork();
  if (pid_ == 0) {
    ::dup2(log.get(), 1);
    ::dup2(log.get(), 2);
    ::execv(program.c_str(), argv.data());
    ::_exit(127);
  }
}

ChildProcess::~ChildProcess() { kill(); }

void ChildProcess::kill() {
  if (pid_ <= 0 || status_ >= 0) return;
  ::kill(pid_, SIGKILL);
  (void)wait(std::chrono::seconds(10));
}

bool ChildProcess::running() { return wait(std::chrono::milliseconds(0)) < 0; }

int ChildProcess::wait(std::chrono::milliseconds limit) {
  if (status_ >= 0 || pid_ <= 0) return status_;
  wait_until(
      [this] {
        int raw = 0;
        rusage usage{};
        if (::wait4(pid_, &raw, WNOHANG, &usage) != pid_) return false;
        status_ = WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
        max_rss_kb_ = usage.ru_maxrss;
        return true;
      },
      limit);
  return status_;
}

std::string ChildProcess::log_text() const {
  std::ifstream in(log_path_);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string ChildProcess::wait_endpoint(std::chrono::milliseconds limit) const {
  std::string endpoint;
  wait_until(
      [&] {
        const std::string all = log_text();
        const std::string marker = "listening on ";
        const std::size_t at = all.rfind(marker);
        if (at == std::string::npos) return false;
        const std::size_t end = all.find(',', at);
        if (end == std::string::npos) return false;
        endpoint = all.substr(at + marker.size(), end - at - marker.size());
        return true;
      },
      limit);
  return endpoint;
}

}  // namespace edgefl::testing
