#include "experiments/cli.hpp"

int main(int argc, char** argv) { return wedge::experiments::run_cli(argc, argv); }
