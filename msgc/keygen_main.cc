// ec_msgc_keygen: makes (or shows) a host's bus key pair: writes SECRET_FILE (mode 0600) and
// PUBLIC_FILE, the line to commit as global/msgc_keys/<node>.pub. An existing SECRET_FILE is
// kept and its public half is written.
#include <iostream>

#include "msgc/curve_keys.h"

int main(int argc, char** argv) {
  if (argc != 3 || std::string(argv[1]) == "--help") {
    std::cerr << "usage: ec_msgc_keygen SECRET_FILE PUBLIC_FILE\n"
                 "Makes this host's CURVE key pair for the cluster bus (or reuses SECRET_FILE)\n"
                 "and writes its public half to PUBLIC_FILE (commit it as "
                 "global/msgc_keys/<node>.pub).\n";
    return argc == 2 ? 0 : 2;
  }
  auto pair = ec::msgc::LoadOrCreateKeyPair(argv[1], "");
  if (!pair.ok()) {
    std::cerr << "ec_msgc_keygen: " << pair.status().message() << "\n";
    return 1;
  }
  if (auto s = ec::msgc::WritePublicKeyFile(argv[2], pair->public_key); !s.ok()) {
    std::cerr << "ec_msgc_keygen: " << s.message() << "\n";
    return 1;
  }
  std::cout << pair->public_key << "\n";
  return 0;
}
