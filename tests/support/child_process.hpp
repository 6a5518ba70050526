// ChildProcess: a program (edgefl-server, edgefl-device) run as a child of the test, with its
// stdout and stderr appended to a log file. Killed (SIGKILL) and reaped on destruction.
//
//   ChildProcess server(EDGEFL_SERVER_BINARY, {"--rounds", "3", ...}, dir.file("server.log"));
//   std::string where = server.wait_endpoint(10s);   // parsed from its "listening on" line
//   CHECK(server.wait(60s) == 0);
//   CHECK(server.max_rss_kb() < 64 * 1024);          // peak resident set, from the kernel
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace edgefl::testing {

class ChildProcess {
 public:
  ChildProcess(const std::string& program, const std::vector<std::string>& args, const std::string& log_path);
  ~ChildProcess();  // SIGKILLs the child if it is still running
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  void kill();  // SIGKILL and reap
  // The exit status once it ended within `limit` (-1: still running; 128+n: killed by signal n).
  int wait(std::chrono::milliseconds limit);
  bool running();
  pid_t pid() const { return pid_; }
  // The peak resident set of the ended child in KB (wait4's ru_maxrss), 0 before it ended.
  long max_rss_kb() const { return max_rss_kb_; }
  // Waits for "listening on <endpoint>," in the log and returns the endpoint ("" on timeout).
  std::string wait_endpoint(std::chrono::milliseconds limit) const;
  const std::string& log_path() const { return log_path_; }
  std::string log_text() const;

 private:
  pid_t pid_ = -1;
  int status_ = -1;
  long max_rss_kb_ = 0;
  std::string log_path_;
};

}  // namespace edgefl::testing
