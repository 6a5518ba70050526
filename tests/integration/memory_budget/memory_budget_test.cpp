// A training device stays inside its memory budget: the whole process's peak resident set
// (VmHWM, taken from the kernel's accounting of the child: wait4 ru_maxrss), data included.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace fs = std::filesystem;

namespace {

struct Exit {
  int code = -1;
  long max_rss_kb = 0;
  std::string stderr_text;
};

pid_t spawn(const std::vector<std::string>& args, const fs::path& stderr_path) {
  pid_t pid = fork();
  if (pid == 0) {
    FILE* err = std::fopen(stderr_path.c_str(), "w");
    if (err != nullptr) dup2(fileno(err), STDERR_FILENO);
    std::vector<char*> argv;
    for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

Exit wait_for(pid_t pid, const fs::path& stderr_path) {
  Exit out;
  int status = 0;
  rusage usage{};
  if (wait4(pid, &status, 0, &usage) == pid) {
    out.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    out.max_rss_kb = usage.ru_maxrss;
  }
  std::ifstream in(stderr_path);
  std::stringstream text;
  text << in.rdbuf();
  out.stderr_text = text.str();
  return out;
}

// A one-round server on a free loopback port; returns its pid and endpoint.
std::pair<pid_t, std::string> start_server(const fs::path& dir, const std::string& batch) {
  const fs::path endpoint_file = dir / "endpoint";
  pid_t pid = spawn({EDGEFL_SERVER_BINARY, "--endpoint", "tcp://127.0.0.1:*", "--endpoint-file", endpoint_file.string(),
                     "--rounds", "1", "--round-min-devices", "1", "--data", "none", "--train-optimizer", "sgd",
                     "--train-batch-size", batch, "--train-local-steps", "2", "--state-dir", (dir / "server").string(),
                     "--quiet"},
                    dir / "server.err");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline && (!fs::exists(endpoint_file) || fs::file_size(endpoint_file) == 0)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::ifstream in(endpoint_file);
  std::string endpoint;
  in >> endpoint;
  return {pid, endpoint};
}

fs::path fresh_dir(const std::string& name) {
  fs::path dir = fs::temp_directory_path() / ("edgefl-memory-" + name + "-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

}  // namespace

TEST_CASE("memory budget: a training device's peak resident memory stays within 24, 32 and 64 MB") {
  // A 4096-sample logical batch makes the budget, not the batch, decide the micro-batch.
  for (const char* budget : {"24M", "32M", "64M"}) {
    CAPTURE(budget);
    fs::path dir = fresh_dir(budget);
    auto [server, endpoint] = start_server(dir, "4096");
    REQUIRE_FALSE(endpoint.empty());
    pid_t device = spawn({EDGEFL_DEVICE_BINARY, "--endpoint", endpoint, "--memory-budget", budget,
                          "--model", "mlp:784-256-128-10", "--partition-scheme", "iid", "--partition-count", "10",
                          "--state-dir", (dir / "device").string(), "--max-tasks", "1"},
                         dir / "device.err");
    Exit device_exit = wait_for(device, dir / "device.err");
    Exit server_exit = wait_for(server, dir / "server.err");
    INFO(device_exit.stderr_text);
    CHECK(device_exit.code == 0);
    CHECK(server_exit.code == 0);
    const long budget_kb = std::stol(budget) * 1024;
    MESSAGE("budget " << budget << ": peak " << device_exit.max_rss_kb / 1024.0 << " MB");
    CHECK(device_exit.max_rss_kb > budget_kb / 4);  // it really trained
    CHECK(device_exit.max_rss_kb <= budget_kb);
    fs::remove_all(dir);
  }
}

TEST_CASE("memory budget: a budget too small for one sample is refused at start, saying what is needed") {
  fs::path dir = fresh_dir("small");
  pid_t device = spawn({EDGEFL_DEVICE_BINARY, "--endpoint", "tcp://127.0.0.1:9", "--memory-budget", "8M",
                        "--model", "mlp:784-256-128-10", "--state-dir", (dir / "device").string()},
                       dir / "device.err");
  Exit exit = wait_for(device, dir / "device.err");
  CHECK(exit.code == 2);
  CHECK(exit.stderr_text.find("resource_exhausted: memory budget 8.0 MB is too small: need at least") != std::string::npos);
  fs::remove_all(dir);
}
