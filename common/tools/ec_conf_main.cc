// ec_conf: the configuration tool.
//   ec_conf check   --config FILE [--node-name N] [--search-path P] [--root DIR]
//   ec_conf yaml    --config FILE [--resolved [scope flags]]
//   ec_conf eval    --config FILE [scope flags] OPTION
//   ec_conf options --markdown
// Only parses the command line; the work is done by ec::config (check.h, resolve.h, ...).
#include <boost/program_options.hpp>
#include <iostream>
#include <string>

#include "common/config/check.h"
#include "common/config/loader.h"
#include "common/config/reference.h"
#include "common/config/resolve.h"
#include "common/config/validate.h"
#include "common/config/yaml_render.h"

namespace po = boost::program_options;
using namespace ec::config;

namespace {

constexpr char kUsage[] =
    "usage: ec_conf <command> [options]\n"
    "commands:\n"
    "  check    parse and validate a configuration; print every problem with file:line\n"
    "  yaml     print the configuration tree (or, with --resolved, the effective values) as "
    "YAML\n"
    "  eval     print the effective value of OPTION for a scope path and where it came from\n"
    "  options  print the option reference (--markdown)\n"
    "Run `ec_conf <command> --help` for the command's options.\n";

po::options_description LoadFlags() {
  po::options_description d("configuration");
  d.add_options()("help,h", "show this help")(
      "config,c", po::value<std::string>(),
      "the main configuration file (found through the search path when relative and absent)")(
      "node-name,n", po::value<std::string>()->default_value(""),
      "node name: selects etc/conf/<node-name> in the default search path")(
      "search-path,s", po::value<std::string>(),
      "':'-separated include search path (default: $EC_CONF_SEARCH_PATH, else the root's)")(
      "root,r", po::value<std::string>()->default_value("/opt/ecmta"), "the runtime root");
  return d;
}

po::options_description PathFlags() {
  po::options_description d("scope path (outbound or inbound)");
  d.add_options()("binding-group", po::value<std::string>()->default_value(""), "Binding_Group")(
      "binding", po::value<std::string>()->default_value(""), "Binding")(
      "domain", po::value<std::string>()->default_value(""), "destination Domain")(
      "host", po::value<std::string>()->default_value(""), "destination MX Host")(
      "listener", po::value<std::string>()->default_value(""),
      "listener type (esmtp_listener when --listen or --peer is given)")(
      "listen", po::value<std::string>()->default_value(""), "Listen scope name, e.g. *:25")(
      "peer", po::value<std::string>()->default_value(""), "client IP address")(
      "pathway", po::value<std::string>()->default_value(""), "Pathway")(
      "pathway-group", po::value<std::string>()->default_value(""), "Pathway_Group");
  return d;
}

LoadOptions ToLoadOptions(const po::variables_map& vm) {
  LoadOptions o;
  o.root = vm["root"].as<std::string>();
  o.node_name = vm["node-name"].as<std::string>();
  if (vm.count("search-path")) o.search_path = SplitSearchPath(vm["search-path"].as<std::string>());
  return o;
}

ScopePath ToScopePath(const po::variables_map& vm) {
  ScopePath p;
  p.binding_group = vm["binding-group"].as<std::string>();
  p.binding = vm["binding"].as<std::string>();
  p.domain = vm["domain"].as<std::string>();
  p.host = vm["host"].as<std::string>();
  p.listener = vm["listener"].as<std::string>();
  p.listen = vm["listen"].as<std::string>();
  p.peer = vm["peer"].as<std::string>();
  p.pathway = vm["pathway"].as<std::string>();
  p.pathway_group = vm["pathway-group"].as<std::string>();
  return p;
}

// Loads and validates; prints problems to stderr. Null when there were errors.
std::shared_ptr<const Config> LoadOrReport(const po::variables_map& vm) {
  Diagnostics diags;
  auto config =
      LoadConfig(vm["config"].as<std::string>(), ToLoadOptions(vm), DefaultSchema(), &diags);
  for (const Diagnostic& d : diags) std::cerr << d.ToString() << "\n";
  if (!config.ok()) {
    std::cerr << "ec_conf: " << config.status().message() << "\n";
    return nullptr;
  }
  return *config;
}

int Run(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
    std::cout << kUsage;
    return argc < 2 ? 2 : 0;
  }
  std::string command = argv[1];
  po::options_description flags(command + " options");
  po::positional_options_description positional;
  if (command == "check") {
    flags.add(LoadFlags());
    flags.add_options()("warnings-as-errors", "fail on warnings too");
  } else if (command == "yaml") {
    flags.add(LoadFlags()).add(PathFlags());
    flags.add_options()("resolved", "print every option's effective value for the scope path");
  } else if (command == "eval") {
    flags.add(LoadFlags()).add(PathFlags());
    flags.add_options()("option", po::value<std::string>(), "the option to evaluate")(
        "yaml", "print the result as YAML");
    positional.add("option", 1);
  } else if (command == "options") {
    flags.add_options()("help,h", "show this help")("markdown", "print the Markdown reference");
  } else {
    std::cerr << "ec_conf: unknown command '" << command << "'\n" << kUsage;
    return 2;
  }
  po::variables_map vm;
  po::store(po::command_line_parser(argc - 1, argv + 1).options(flags).positional(positional).run(),
            vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << "usage: ec_conf " << command
              << (command == "eval" ? " --config FILE [scope path] OPTION" : " [options]") << "\n"
              << flags;
    return 0;
  }
  if (command == "options") {
    if (!vm.count("markdown")) {
      std::cerr << "ec_conf options: only --markdown output exists\n";
      return 2;
    }
    std::cout << GenerateMarkdownReference(DefaultSchema());
    return 0;
  }
  if (!vm.count("config")) {
    std::cerr << "ec_conf " << command << ": --config FILE is required\n";
    return 2;
  }
  if (command == "check") {
    CheckOptions o;
    o.config_path = vm["config"].as<std::string>();
    o.load = ToLoadOptions(vm);
    o.warnings_as_errors = vm.count("warnings-as-errors") > 0;
    return CheckConfigMain(o, std::cout);
  }
  std::shared_ptr<const Config> config = LoadOrReport(vm);
  if (!config) return 1;
  if (command == "yaml") {
    if (vm.count("resolved")) {
      std::cout << ResolvedToYaml(EvalAll(*config, DefaultSchema(), ToScopePath(vm)));
    } else {
      std::cout << TreeToYaml(*config);
    }
    return 0;
  }
  if (!vm.count("option")) {
    std::cerr << "ec_conf eval: name the OPTION to evaluate\n";
    return 2;
  }
  auto r = Eval(*config, DefaultSchema(), ToScopePath(vm), vm["option"].as<std::string>());
  if (!r.ok()) {
    std::cerr << "ec_conf eval: " << r.status().message() << "\n";
    return 1;
  }
  if (vm.count("yaml")) {
    std::cout << ResolvedToYaml({*r});
  } else {
    std::cout << r->option << " = " << r->value.ToConfigText() << "\n  from "
              << (r->from_default ? "the default" : r->location.ToString()) << " (" << r->scope
              << ")\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return Run(argc, argv);
  } catch (const po::error& e) {
    std::cerr << "ec_conf: " << e.what() << "\n" << kUsage;
    return 2;
  }
}
