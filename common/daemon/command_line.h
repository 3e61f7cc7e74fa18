// The part of a daemon's main() that every daemon repeats around Boost.Program_options: parse,
// report a bad option (exit 2), answer --help and --version (exit 0). Header-only so that only
// the executables, which link Boost.Program_options, pull it in.
#pragma once

#include <boost/program_options.hpp>
#include <iostream>
#include <optional>
#include <string>

namespace ec::daemon {

// nullopt: go on with `vm` filled; else the exit code main() should return.
inline std::optional<int> ParseCommandLine(const std::string& program,
                                           const std::string& version_line,
                                           const boost::program_options::options_description& desc,
                                           int argc, char** argv,
                                           boost::program_options::variables_map* vm) {
  namespace po = boost::program_options;
  try {
    po::store(po::parse_command_line(argc, argv, desc), *vm);
    po::notify(*vm);
  } catch (const po::error& e) {
    std::cerr << program << ": " << e.what() << "\n"
              << "Try '" << program << " --help'.\n";
    return 2;
  }
  if (vm->count("help")) {
    std::cout << desc << "\n";
    return 0;
  }
  if (vm->count("version")) {
    std::cout << version_line << "\n";
    return 0;
  }
  return std::nullopt;
}

}  // namespace ec::daemon
