#pragma once
/// wedge's error hierarchy: the library throws, only main() catches.
#include <stdexcept>
#include <string>

namespace wedge {

/// Base of every error wedge throws on purpose.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Bad input: a parameter, an experiment file, a command-line value (exit code 2).
class ConfigError : public Error {
 public:
  using Error::Error;
};

/// A results file could not be written or read (exit code 3).
class OutputError : public Error {
 public:
  using Error::Error;
};

/// The work was stopped by SIGINT/SIGTERM before it finished (exit code 130), where no partial
/// result is kept (e.g. a JSON document abandoned half-way).
class Interrupted : public Error {
 public:
  using Error::Error;
};

}  // namespace wedge
