// edgefl-keygen: make a CURVE key pair for a server or a device.
//
//   edgefl-keygen device-7 --dir keys     # keys/device-7.key (0600) + keys/device-7.pub
//
// Prints the public key on stdout (append it to the server's allow-list for a device, or give
// it to devices for the server). Refuses to replace existing files unless --force.
#include <CLI/CLI.hpp>

#include <filesystem>
#include <iostream>

#include "edgefl/net/curve.hpp"

int main(int argc, char** argv) {
  CLI::App app{"Generate a CURVE key pair for edgefl (Z85 text files)"};
  std::string name;
  std::string dir = ".";
  bool force = false;
  app.add_option("name", name, "base name of the key files (<name>.key, <name>.pub)")->required();
  app.add_option("--dir", dir, "directory to write the files into (created if missing)");
  app.add_flag("--force", force, "replace existing key files");
  CLI11_PARSE(app, argc, argv);

  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    std::cerr << "edgefl-keygen: cannot create '" << dir << "': " << ec.message() << "\n";
    return 1;
  }
  auto keys = edgefl::generate_curve_keypair();
  if (!keys) {
    std::cerr << "edgefl-keygen: " << keys.status().to_string() << "\n";
    return 1;
  }
  std::string base = (std::filesystem::path(dir) / name).string();
  edgefl::Status saved = edgefl::save_curve_keypair(*keys, base, force);
  if (!saved.ok()) {
    std::cerr << "edgefl-keygen: " << saved.to_string() << "\n";
    return 1;
  }
  std::cerr << "wrote " << base << ".key (secret, mode 0600) and " << base << ".pub\n";
  std::cout << keys->public_z85 << "\n";
  return 0;
}
