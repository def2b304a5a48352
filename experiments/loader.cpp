#include "experiments/loader.hpp"

#include "agents/params.hpp"
#include "engine/error.hpp"
#include "experiments/calibrate_table.hpp"
#include "experiments/designs.hpp"
#include "output/paths.hpp"

#include <csv.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <toml++/toml.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>

namespace fs = std::filesystem;

namespace wedge::experiments {

namespace {

constexpr std::string_view TOP_KEYS[] = {"extends", "description", "run", "sweep", "calibrate"};
constexpr std::string_view RUN_KEYS[] = {"runs", "seed", "precision", "crn", "max_runs"};
constexpr std::string_view SWEEP_KEYS[] = {"design", "points", "keys", "csv"};
constexpr std::string_view DESIGNS[] = {"grid", "lhs", "sobol", "saltelli", "list"};
constexpr std::size_t MAX_PROBLEMS = 200;

/// Words are compared on their first 64 characters: edit distance is quadratic, and a key longer
/// than any real one is garbage (a CSV header line fed whole, say) whose suggestion costs time
/// and helps nobody.
constexpr std::size_t SUGGEST_CHARS = 64;

/// The registry key closest to `key` for a word that looks like a key (letters, digits, '_' and
/// '.', at most 64 characters), else "": garbage such as a whole CSV line gets no suggestion.
std::string nearest_key(std::string_view key,
                        const agents::Scenario& scenario = agents::Scenario{}) {
  const bool plausible =
      !key.empty() && key.size() <= SUGGEST_CHARS &&
      std::all_of(key.begin(), key.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.';
      });
  return plausible ? agents::nearest_parameter(scenario, key) : std::string();
}

/// " (did you mean 'dulles.tact'?)", or "" (see nearest_key).
std::string did_you_mean(std::string_view key,
                         const agents::Scenario& scenario = agents::Scenario{}) {
  const std::string near = nearest_key(key, scenario);
  return near.empty() ? std::string() : fmt::format(" (did you mean '{}'?)", near);
}

template <class List>
std::string nearest(std::string_view full_word, const List& list) {
  const std::string_view word = full_word.substr(0, SUGGEST_CHARS);
  std::string best;
  std::size_t d = std::string::npos;
  for (std::string_view c : list) {
    const std::size_t x = agents::edit_distance(word, c);
    if (x < d) {
      d = x;
      best = std::string(c);
    }
  }
  return agents::close_match(word, d) ? best : std::string();
}

/// "did you mean [x]? " (with `open`/`close` around the word) or "" when nothing is close.
std::string mean_text(const std::string& near, std::string_view open = "'",
                      std::string_view close = "'") {
  return near.empty() ? std::string() : fmt::format("did you mean {}{}{}? ", open, near, close);
}

template <class List>
std::string joined(const List& list) {
  std::string out;
  for (std::string_view c : list) out += (out.empty() ? "" : ", ") + std::string(c);
  return out;
}

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool takes_points(std::string_view design) {
  return design == "lhs" || design == "sobol" || design == "saltelli";
}

/// A real as a user would write it in TOML: shortest round trip, with ".0" on whole numbers.
std::string real_text(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  std::string s = fmt::format("{}", v);
  if (s.find_first_of(".eE") == std::string::npos) s += ".0";
  return s;
}

/// What a value of `info` must be, for an error about `value`: the key's range, said "a finite
/// number >= 0" when the value is infinite and the range has no upper end (">= 0" alone would
/// seem to admit inf).
std::string valid_text(const agents::ParamInfo& info, double value) {
  if (info.type == agents::ParamType::real && std::isinf(value) && std::isinf(info.max))
    return "a finite number " + info.range_text();
  return info.range_text();
}

/// TOML allows non-ASCII characters only inside strings and comments. Finding one elsewhere here
/// keeps it from toml++ 3.3 (Debian 12), whose whitespace tables reach __builtin_unreachable for
/// code points U+00A1-U+049A in those positions (undefined behaviour, found by fuzzing). Returns
/// the 1-based line and column of the first such character, or {0, 0}.
std::pair<std::size_t, std::size_t> non_ascii_outside_strings(std::string_view text) {
  enum { code, comment, basic, literal, multi_basic, multi_literal } state = code;
  std::size_t line = 1, column = 1;
  for (std::size_t i = 0; i < text.size(); ++i, ++column) {
    const char c = text[i];
    const auto starts = [&](std::string_view s) { return text.substr(i, s.size()) == s; };
    if (c == '\n') {
      ++line;
      column = 0;
      if (state == comment || state == basic || state == literal) state = code;
      continue;
    }
    switch (state) {
      case code:
        if (static_cast<unsigned char>(c) >= 0x80) return {line, column};
        if (c == '#') {
          state = comment;
        } else if (starts(R"(""")")) {
          state = multi_basic;
          i += 2;
          column += 2;
        } else if (starts("'''")) {
          state = multi_literal;
          i += 2;
          column += 2;
        } else if (c == '"') {
          state = basic;
        } else if (c == '\'') {
          state = literal;
        }
        break;
      case comment:
        break;
      case basic:
        if (c == '\\') {
          ++i;
          ++column;
        } else if (c == '"') {
          state = code;
        }
        break;
      case literal:
        if (c == '\'') state = code;
        break;
      case multi_basic:
        if (c == '\\') {
          ++i;
          ++column;
        } else if (starts(R"(""")")) {
          state = code;
          i += 2;
          column += 2;
        }
        break;
      case multi_literal:
        if (starts("'''")) {
          state = code;
          i += 2;
          column += 2;
        }
        break;
    }
  }
  return {0, 0};
}

/// Reads a file the user named, refusing before reading anything that is not a regular file
/// (a directory, a device such as /dev/zero, a FIFO that would block) or is larger than
/// `max_bytes`. Returns false with `problem` set (without the path) on any failure.
bool read_regular_file(const std::string& path, std::uint64_t max_bytes, std::string_view what,
                       std::string& text, std::string& problem) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    problem =
        errno == ELOOP ? std::string(output::SYMLINK_LOOP)
        : errno == ENOENT
            ? fmt::format("cannot open the {} (does it exist and is it readable?): no such file",
                          what)
            : fmt::format("cannot open the {} (does it exist and is it readable?): {}", what,
                          std::strerror(errno));
    return false;
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    problem = fmt::format("cannot read the {}: {}", what, std::strerror(errno));
    return false;
  }
  if (S_ISDIR(st.st_mode)) {
    problem = fmt::format("is a directory, not an {}", what);
    return false;
  }
  if (!S_ISREG(st.st_mode)) {
    const char* kind = S_ISFIFO(st.st_mode)   ? "a FIFO"
                       : S_ISCHR(st.st_mode)  ? "a character device"
                       : S_ISBLK(st.st_mode)  ? "a block device"
                       : S_ISSOCK(st.st_mode) ? "a socket"
                                              : "not a plain file";
    problem = fmt::format("not a regular file ({}); the {} must be a regular file", kind, what);
    return false;
  }
  const auto too_large = [&](std::uint64_t size) {
    return fmt::format(
        "{}: larger than the limit of {} MB for {} {}{}", byte_text(size), max_bytes >> 20,
        what.starts_with('e') ? "an" : "a", what,
        what == "experiment file" ? " (put long lists of points in a CSV file: sweep.csv)" : "");
  };
  if (static_cast<std::uint64_t>(st.st_size) > max_bytes) {
    problem = too_large(static_cast<std::uint64_t>(st.st_size));
    return false;
  }
  text.assign(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t got = 0;
  for (;;) {
    if (got == text.size()) text.resize(std::min<std::uint64_t>(got + 65536, max_bytes + 1));
    if (got == text.size()) break;  // grew past the limit while being read
    const ssize_t n = ::read(fd, text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      problem = fmt::format("cannot read the {}: {}", what, std::strerror(errno));
      return false;
    }
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  if (got > max_bytes) {
    problem = too_large(max_bytes + 1);
    return false;
  }
  text.resize(got);
  return true;
}

/// A ConfigError with its position, so that problems can be reported in line order.
class LocatedError : public ConfigError {
 public:
  LocatedError(const std::string& message, std::string at_file, std::size_t at_line,
               std::size_t at_column)
      : ConfigError(message), file(std::move(at_file)), line(at_line), column(at_column) {}
  std::string file;
  std::size_t line;
  std::size_t column;
};

/// Thrown (in collecting mode) when the problems of a part are recorded already.
struct AlreadyRecorded {};

struct Problem {
  std::size_t file;  ///< reading order of the file; SIZE_MAX when the problem has no position
  std::size_t line;
  std::size_t column;
  std::string message;
};

/// One entry of a [sweep.keys] table.
struct KeyEntry {
  const toml::key* key;
  const toml::node* node;
};

/// The [sweep] tables of an extends chain merged (each node stays in its own file's table).
struct MergedSweep {
  bool present = false;
  const toml::node* design = nullptr;
  const toml::node* points = nullptr;
  const toml::node* csv = nullptr;
  std::vector<KeyEntry> keys;
  toml::source_region where;  ///< the last [sweep] table, for errors about the whole sweep
};

/// Loads files into an Experiment. In collecting mode, each problem is recorded and loading goes
/// on with the next key; otherwise the first problem is thrown.
class Loader {
 public:
  Loader(Experiment& e, bool collect) : e_(e), collect_(collect) {}

  [[noreturn]] static void fail(const toml::source_region& where, const std::string& what) {
    const std::string file = where.path ? *where.path : std::string("?");
    throw LocatedError(
        fmt::format("{}:{}:{}: {}", file, where.begin.line, where.begin.column, what), file,
        where.begin.line, where.begin.column);
  }

  /// Runs `f`; in collecting mode records a ConfigError it throws and returns false.
  template <class F>
  bool attempt(F&& f) {
    try {
      f();
      return true;
    } catch (const ConfigError& err) {
      if (!collect_) throw;
      record(err);
      return false;
    } catch (const AlreadyRecorded&) {
      return false;
    }
  }

  void record(const ConfigError& err) {
    if (const auto* at = dynamic_cast<const LocatedError*>(&err)) {
      problems_.push_back({file_index(at->file), at->line, at->column, err.what()});
    } else {
      problems_.push_back({SIZE_MAX, 0, 0, err.what()});
    }
    if (problems_.size() >
        4 * MAX_PROBLEMS) {  // keep memory bounded: only the first ones are shown
      sort_problems();
      dropped_ += problems_.size() - MAX_PROBLEMS;
      problems_.resize(MAX_PROBLEMS);
    }
  }

  bool ok() const { return problems_.empty(); }

  /// The CSV file of design points the experiment names (resolved), or "", and where it names it.
  const std::string& csv_path() const { return csv_path_; }
  const toml::source_region& csv_where() const { return csv_where_; }
  /// Counts problems found but not kept (beyond MAX_PROBLEMS of one file).
  void add_dropped(std::size_t n) { dropped_ += n; }

  /// The problems in reading order (file by file, line by line), at most MAX_PROBLEMS and a
  /// last line saying how many more there are.
  std::vector<std::string> problem_lines() {
    sort_problems();
    std::vector<std::string> out;
    for (const auto& p : problems_) {
      if (out.size() == MAX_PROBLEMS) break;
      out.push_back(p.message);
    }
    const std::size_t more = problems_.size() - out.size() + dropped_;
    if (more > 0) out.push_back(fmt::format("({} more problems not shown)", more));
    return out;
  }

  /// Parses one file's text. Errors name `path`.
  static toml::table parse(const std::string& text, const std::string& path) {
    // An HDF5 file (a results file given where an experiment is expected): say so, rather than
    // "a non-ASCII character" at its signature's first byte.
    if (text.rfind("\x89HDF\r\n\x1a\n", 0) == 0) {
      throw LocatedError(fmt::format("{}: is an HDF5 file (a results file?), not an experiment "
                                     "TOML file; `wedge inspect {}` describes a results file",
                                     path, path),
                         path, 1, 1);
    }
    if (const auto [line, column] = non_ascii_outside_strings(text); line > 0) {
      throw LocatedError(
          fmt::format("{}:{}:{}: invalid TOML: a non-ASCII character outside a string or comment",
                      path, line, column),
          path, line, column);
    }
    try {
      auto table = toml::parse(text, path);
      if (table.empty())
        throw ConfigError(fmt::format(
            "{}: the file is empty: an experiment sets at least one key or `extends`", path));
      return table;
    } catch (const toml::parse_error& err) {
      fail(err.source(), fmt::format("invalid TOML: {}", display_text(err.description(), 200)));
    }
  }

  /// Reads one file's own keys (after its parents').
  void read(const toml::table& table, const std::string& path) {
    file_index(path);
    softens_in_file_ = false;
    for (auto&& [k, node] : table) {
      attempt([&, &k = k, &node = node] { read_top(k, node); });
    }
  }

  /// After the whole chain: faction weights summing to 0 are refused where a file says so (the
  /// scenario's own check would name no line): at the last weight a file set, else at the last
  /// [japan.factions] table.
  void check_faction_weights() {
    const auto& f = e_.base.japan.factions;
    const auto& where = weight_where_ ? weight_where_ : factions_where_;
    if (f.count == 0 || !where) return;
    double total = 0.0;
    std::string weights;
    for (std::size_t i = 0; i < f.count; ++i) {
      total += f.list[i].weight;
      weights +=
          fmt::format("{}{} {}", i ? ", " : "", e_.base.japan.labels.id_of(i), f.list[i].weight);
    }
    if (total > 0.0) return;
    attempt([&] {
      fail(*where, fmt::format("japan.factions: the faction weights sum to 0 ({}); at least one "
                               "must be > 0",
                               weights));
    });
  }

  /// Builds e.sweep from the merged [sweep] tables of the chain.
  void resolve_sweep(const std::string& path) {
    if (!sweep_.present) return;
    attempt([&] { sweep_section(path); });
  }

 private:
  std::size_t file_index(const std::string& file) {
    const auto it = std::find(files_.begin(), files_.end(), file);
    if (it != files_.end()) return static_cast<std::size_t>(it - files_.begin());
    files_.push_back(file);
    return files_.size() - 1;
  }

  void read_top(const toml::key& k, const toml::node& node) {
    const std::string key(k.str());
    if (key == "extends") return;  // followed by load_chain
    if (key == "description") {
      if (!node.is_string()) fail(node.source(), "description: must be a string");
      e_.description = node.value<std::string>().value();
      if (const auto c = control_character(e_.description)) {
        fail(node.source(),
             fmt::format("description: holds a control character ({}); a description is one line "
                         "of printable text (reports and terminals print it)",
                         *c));
      }
      return;
    }
    if (key == "calibrate") {  // `wedge calibrate` reads it; checked here so that validate and run
                               // refuse a bad one
      if (!node.is_table()) fail(node.source(), "'calibrate' must be a table ([calibrate])");
      CalibrationSettings checked;
      read_calibration_table(*node.as_table(),
                             node.source().path ? *node.source().path : std::string("?"), checked);
      return;
    }
    const auto& sections = scenario_sections();
    const bool scenario = std::find(sections.begin(), sections.end(), key) != sections.end();
    if (key == "run" || key == "sweep" || scenario) {
      if (!node.is_table())
        fail(node.source(), fmt::format("'{}' must be a table ([{}])", key, key));
      if (key == "run")
        run_section(*node.as_table());
      else if (key == "sweep")
        merge_sweep(*node.as_table(), node.source());
      else
        section(*node.as_table(), key);
      return;
    }
    std::vector<std::string> valid(std::begin(TOP_KEYS), std::end(TOP_KEYS));
    valid.insert(valid.end(), sections.begin(), sections.end());
    if (node.is_table()) {
      fail(k.source(), fmt::format("unknown section [{}] ({}valid: {})", display_text(key),
                                   mean_text(nearest(key, valid), "[", "]"), joined(valid)));
    }
    const std::string near = nearest_key(key);
    fail(k.source(),
         fmt::format(
             "unknown key '{}' ({}scenario keys belong in their section, e.g. [dulles] tact = 0.9)",
             display_text(key), near.empty() ? "" : fmt::format("did you mean '{}'? ", near)));
  }

  static std::string text_of(const toml::node& node) {
    std::string s;
    if (node.is_floating_point()) {
      s = real_text(node.value<double>().value());
    } else if (node.is_integer()) {
      s = fmt::format("{}", node.value<std::int64_t>().value());
    } else {
      std::ostringstream os;
      node.visit([&os](auto&& n) { os << n; });
      s = os.str();
    }
    return display_text(s, 40);
  }

  /// A scenario value of key `info` from a TOML node.
  static double number(const toml::node& node, const std::string& key,
                       const agents::ParamInfo& info) {
    double v = 0.0;
    if (info.type == agents::ParamType::boolean) {
      if (!node.is_boolean()) fail(node.source(), fmt::format("{}: must be true or false", key));
      v = node.value<bool>().value() ? 1.0 : 0.0;
    } else if (info.type == agents::ParamType::integer) {
      if (node.is_floating_point()) {
        fail(node.source(), fmt::format("{}: {} is not an integer; must be {}", key, text_of(node),
                                        info.range_text()));
      }
      if (!node.is_integer())
        fail(node.source(),
             fmt::format("{} = {}: must be {}", key, text_of(node), info.range_text()));
      v = static_cast<double>(node.value<std::int64_t>().value());
    } else {
      if (!node.is_number()) {
        fail(node.source(),
             fmt::format("{} = {}: must be a number, {}", key, text_of(node), info.range_text()));
      }
      v = node.value<double>().value();
    }
    if (!info.in_range(v))
      fail(node.source(),
           fmt::format("{} = {}: must be {}", key, text_of(node), valid_text(info, v)));
    return v;
  }

  /// A key of the scenario read so far (its factions' keys included).
  agents::ParamInfo parameter(const toml::source_region& where, const std::string& key) const {
    if (auto info = agents::find_parameter(e_.base, key)) return *info;
    fail(where, fmt::format("unknown key '{}'{}", display_text(key), did_you_mean(key, e_.base)));
  }

  /// [japan.factions]: `replace = true` (start from no factions), then one table per faction,
  /// in the file's order (see README, "Japan's factions").
  void factions(const toml::node& node) {
    if (!node.is_table()) {
      if (node.value<std::string>() == "replace") {
        fail(node.source(),
             "japan.factions = \"replace\": TOML cannot also hold [japan.factions.<id>] tables "
             "under "
             "a string; write `replace = true` in [japan.factions] instead");
      }
      fail(node.source(),
           "japan.factions: must be a table: [japan.factions] replace = true, and "
           "[japan.factions.<id>] tables");
    }
    const auto& table = *node.as_table();
    std::vector<KeyEntry> entries;
    for (auto&& [k, v] : table) {
      if (k.str() == "replace") {
        attempt([&, &v = v] {
          if (!v.is_boolean()) fail(v.source(), "japan.factions.replace: must be true or false");
          if (v.value<bool>().value()) {
            e_.base.japan.factions.count = 0;
            e_.base.japan.factions.softens = -1;
          }
        });
      } else {
        entries.push_back({&k, &v});
      }
    }
    std::stable_sort(entries.begin(), entries.end(), [](const KeyEntry& a, const KeyEntry& b) {
      const auto& x = a.key->source().begin;
      const auto& y = b.key->source().begin;
      return x.line != y.line ? x.line < y.line : x.column < y.column;
    });
    factions_where_ = node.source();
    for (const auto& entry : entries) attempt([&] { faction(*entry.key, *entry.node); });
    if (e_.base.japan.factions.count == 0 && entries.empty()) {  // (a faction that failed said why)
      attempt([&] {
        fail(node.source(),
             "japan.factions: replace = true leaves no factions; define at least one "
             "[japan.factions.<id>]");
      });
    }
  }

  /// The ids of the scenario's factions, for messages: "HK, SG, YS, PUB, FISH".
  std::string faction_ids() const {
    std::string out;
    for (std::size_t i = 0; i < e_.base.japan.factions.count; ++i) {
      out += (i ? ", " : "") + std::string(e_.base.japan.labels.id_of(i));
    }
    return out.empty() ? std::string("none") : out;
  }

  /// One [japan.factions.<id>] table: changes the faction `id`, or adds it, or removes it.
  void faction(const toml::key& k, const toml::node& node) {
    static constexpr std::string_view VALID =
        "weight, min_islands, territory, side, alliance, okinawa, name, softens, remove";
    const std::string id(k.str());
    const std::string section = "japan.factions." + id;
    auto& list = e_.base.japan.factions;
    auto& labels = e_.base.japan.labels;
    if (!node.is_table()) {
      fail(k.source(), fmt::format("{}: must be a table [{}] (keys: {})", display_text(section),
                                   display_text(section), VALID));
    }
    if (!agents::valid_faction_id(id)) {
      fail(k.source(),
           fmt::format(
               "[{}]: a faction id is 1 to {} characters, each a letter, a digit, '_' or '-' "
               "(and not 'replace')",
               display_text(section), agents::MAX_FACTION_ID));
    }
    const auto& t = *node.as_table();
    auto slot = agents::faction_slot(e_.base, id);
    if (const toml::node* remove = t.get("remove")) {
      if (!remove->is_boolean())
        fail(remove->source(), fmt::format("{}.remove: must be true or false", section));
      if (remove->value<bool>().value()) {
        if (t.size() > 1)
          fail(remove->source(), fmt::format("{}: remove = true takes no other keys", section));
        if (!slot) {
          fail(k.source(),
               fmt::format(
                   "[{}]: remove = true, but the scenario has no faction '{}' (factions: {})",
                   section, id, faction_ids()));
        }
        for (std::size_t i = *slot; i + 1 < list.count; ++i) {
          list.list[i] = list.list[i + 1];
          labels.id[i] = labels.id[i + 1];
          labels.name[i] = labels.name[i + 1];
        }
        --list.count;
        if (list.softens == static_cast<int>(*slot))
          list.softens = -1;
        else if (list.softens > static_cast<int>(*slot))
          --list.softens;
        return;
      }
    }
    std::vector<KeyEntry> entries;
    for (auto&& [sub, v] : t) entries.push_back({&sub, &v});
    static constexpr std::array<std::string_view, 9> KEYS{"weight", "min_islands", "territory",
                                                          "side",   "alliance",    "okinawa",
                                                          "name",   "softens",     "remove"};
    bool known = true;
    for (const auto& [sub_key, v] : entries) {
      if (std::find(KEYS.begin(), KEYS.end(), sub_key->str()) != KEYS.end()) continue;
      known = false;
      attempt([&, sub_key = sub_key] {
        fail(sub_key->source(), fmt::format("unknown key '{}.{}' (did you mean '{}.{}'? valid: {})",
                                            section, display_text(sub_key->str()), section,
                                            nearest(sub_key->str(), KEYS), VALID));
      });
    }
    if (!known) throw AlreadyRecorded{};
    if (!slot) {
      if (list.count >= agents::MAX_FACTIONS) {
        fail(k.source(),
             fmt::format(
                 "[{}]: a scenario has at most {} factions, and this one has {} already ({})",
                 section, agents::MAX_FACTIONS, list.count, faction_ids()));
      }
      std::string missing;
      for (std::string_view field : agents::FACTION_FIELDS) {
        if (t.get(field) == nullptr) missing += (missing.empty() ? "" : ", ") + std::string(field);
      }
      if (!missing.empty()) {
        fail(k.source(),
             fmt::format(
                 "[{}]: a new faction needs weight, min_islands, territory, side, alliance and "
                 "okinawa (missing: {}; the scenario's factions: {})",
                 section, missing, faction_ids()));
      }
      slot = list.count;
      list.list[*slot] = agents::Faction{};
      labels.id[*slot] = {};
      labels.name[*slot] = {};
      std::copy(id.begin(), id.end(), labels.id[*slot].begin());
      ++list.count;
    }
    for (const auto& [sub_key, v] : entries) {
      attempt([&, sub_key = sub_key, v = v] {
        const std::string sub(sub_key->str());
        if (sub == "remove") return;
        if (sub == "name") {
          const auto name = v->value<std::string>();
          if (!name) fail(v->source(), fmt::format("{}.name: must be a string", section));
          if (const auto c = control_character(*name)) {
            fail(v->source(),
                 fmt::format("{}.name: holds a control character ({}); a name is one line of "
                             "printable text (reports and terminals print it)",
                             section, *c));
          }
          if (name->size() > agents::MAX_FACTION_NAME) {
            fail(v->source(), fmt::format("{}.name: {} bytes; at most {}", section, name->size(),
                                          agents::MAX_FACTION_NAME));
          }
          labels.name[*slot] = {};
          std::copy(name->begin(), name->end(), labels.name[*slot].begin());
          return;
        }
        if (sub == "softens") {
          if (!v->is_boolean())
            fail(v->source(), fmt::format("{}.softens: must be true or false", section));
          if (v->value<bool>().value()) {
            if (softens_in_file_ && list.softens >= 0 && list.softens != static_cast<int>(*slot)) {
              fail(v->source(),
                   fmt::format("{}.softens: at most one faction softens under Shigemitsu, and "
                               "japan.factions.{} has softens = true already",
                               section, labels.id_of(static_cast<std::size_t>(list.softens))));
            }
            list.softens = static_cast<int>(*slot);
            softens_in_file_ = true;
          } else if (list.softens == static_cast<int>(*slot)) {
            list.softens = -1;
          }
          return;
        }
        const std::string key = section + "." + sub;
        if (sub == "weight") weight_where_ = v->source();
        const auto info = agents::require_parameter(e_.base, key);  // a known key (checked above)
        info.set(e_.base, number(*v, key, info));
      });
    }
  }

  /// A scenario section, walked recursively; [japan.factions] is read by factions().
  void section(const toml::table& table, const std::string& prefix) {
    for (auto&& [k, node] : table) {
      if (prefix == "japan" && k.str() == "factions") {
        attempt([&, &node = node] { factions(node); });
        continue;
      }
      attempt([&, &k = k, &node = node] {
        const std::string key = prefix + "." + std::string(k.str());
        if (node.is_table() && !agents::find_parameter(key)) {
          bool any = false;
          for (const auto& p : agents::parameters()) any = any || p.key.starts_with(key + ".");
          if (!any) {
            std::vector<std::string> sections;
            for (const auto& p : agents::parameters()) {
              if (sections.empty() || sections.back() != p.section) sections.push_back(p.section);
            }
            fail(k.source(),
                 fmt::format("unknown section [{}]{}", display_text(key),
                             nearest(key, sections).empty()
                                 ? std::string()
                                 : fmt::format(" (did you mean [{}]?)", nearest(key, sections))));
          }
          section(*node.as_table(), key);
          return;
        }
        const auto info = parameter(k.source(), key);
        info.set(e_.base, number(node, key, info));
      });
    }
  }

  /// An integer setting of [run] or [sweep].
  static std::uint64_t count(const toml::node& node, const std::string& key,
                             const IntegerRange& range) {
    if (node.is_floating_point()) {
      fail(node.source(), fmt::format("{}: {} is not an integer; must be {}", key, text_of(node),
                                      range_text(range)));
    }
    const auto v = node.value<std::int64_t>();
    if (!node.is_integer() || *v < 0 || static_cast<std::uint64_t>(*v) < range.min ||
        static_cast<std::uint64_t>(*v) > range.max) {
      fail(node.source(),
           fmt::format("{} = {}: must be {}", key, text_of(node), range_text(range)));
    }
    return static_cast<std::uint64_t>(*v);
  }

  void run_section(const toml::table& table) {
    for (auto&& [k, node] : table) {
      attempt([&, &k = k, &node = node] {
        const std::string_view key = k.str();
        const std::string full = "run." + std::string(key);
        if (key == "runs") {
          e_.run.runs = count(node, full, RUNS_RANGE);
        } else if (key == "max_runs") {
          e_.run.max_runs = count(node, full, MAX_RUNS_RANGE);
        } else if (key == "seed") {
          e_.run.seed = count(node, full, SEED_RANGE);
        } else if (key == "crn") {
          if (!node.is_boolean()) fail(node.source(), "run.crn: must be true or false");
          e_.run.crn = node.value<bool>().value();
        } else if (key == "precision") {
          const auto v = node.value<double>();
          if (!node.is_number() || !(*v >= PRECISION_RANGE.min && *v <= PRECISION_RANGE.max)) {
            fail(node.source(), fmt::format("run.precision = {}: must be {}", text_of(node),
                                            range_text(PRECISION_RANGE)));
          }
          e_.run.precision = *v;
        } else {
          fail(k.source(), fmt::format("unknown key '{}' in [run] ({}valid: {})", display_text(key),
                                       mean_text(nearest(key, RUN_KEYS)), joined(RUN_KEYS)));
        }
      });
    }
  }

  /// Merges one file's [sweep] into those of its parents: design, points and csv replace the
  /// parent's (a design that takes no points drops the parent's points); each key of
  /// [sweep.keys] replaces the parent's entry of that key or comes after them; csv and keys
  /// exclude each other, so one drops the parent's other.
  void merge_sweep(const toml::table& table, const toml::source_region& where) {
    for (auto&& [k, node] : table) {
      const std::string_view key = k.str();
      if (std::find(std::begin(SWEEP_KEYS), std::end(SWEEP_KEYS), key) == std::end(SWEEP_KEYS)) {
        attempt([&, &k = k] {
          fail(k.source(), fmt::format("unknown key '{}' in [sweep] (valid: {})", display_text(key),
                                       joined(SWEEP_KEYS)));
        });
      }
    }
    sweep_.present = true;
    sweep_.where = where;
    if (const toml::node* design = table.get("design")) {
      sweep_.design = design;
      const auto name = design->value<std::string>();
      if (table.get("points") == nullptr && !(name && takes_points(*name))) sweep_.points = nullptr;
    }
    if (const toml::node* points = table.get("points")) sweep_.points = points;
    if (const toml::node* csv = table.get("csv")) {
      sweep_.csv = csv;
      sweep_.keys.clear();
    }
    if (const toml::node* keys = table.get("keys")) {
      if (table.get("csv") == nullptr) sweep_.csv = nullptr;
      if (!keys->is_table()) {
        attempt([&] { fail(keys->source(), "sweep.keys: must be a table of \"key\" = values"); });
        return;
      }
      // toml++ iterates keys sorted; the design follows the order of the file.
      std::vector<KeyEntry> entries;
      for (auto&& [k, node] : *keys->as_table()) entries.push_back({&k, &node});
      std::stable_sort(entries.begin(), entries.end(), [](const KeyEntry& a, const KeyEntry& b) {
        const auto& x = a.key->source().begin;
        const auto& y = b.key->source().begin;
        return x.line != y.line ? x.line < y.line : x.column < y.column;
      });
      for (const auto& entry : entries) {
        const auto same =
            std::find_if(sweep_.keys.begin(), sweep_.keys.end(),
                         [&](const KeyEntry& old) { return old.key->str() == entry.key->str(); });
        if (same != sweep_.keys.end()) {
          *same = entry;
        } else {
          sweep_.keys.push_back(entry);
        }
      }
    }
  }

  void sweep_section(const std::string& path) {
    Sweep sweep;
    const toml::node* design = sweep_.design;
    if (design == nullptr)
      fail(sweep_.where, fmt::format("[sweep] needs design = one of {}", joined(DESIGNS)));
    const auto name = design->value<std::string>();
    if (!name)
      fail(design->source(), fmt::format("sweep.design: must be one of {}", joined(DESIGNS)));
    if (*name == "grid")
      sweep.design = Design::grid;
    else if (*name == "lhs")
      sweep.design = Design::lhs;
    else if (*name == "sobol")
      sweep.design = Design::sobol;
    else if (*name == "saltelli")
      sweep.design = Design::saltelli;
    else if (*name == "list")
      sweep.design = Design::list;
    else {
      fail(design->source(),
           fmt::format("sweep.design = \"{}\": must be one of {}{}", display_text(*name),
                       joined(DESIGNS),
                       nearest(*name, DESIGNS).empty()
                           ? std::string()
                           : fmt::format(" (did you mean '{}'?)", nearest(*name, DESIGNS))));
    }
    bool complete = true;
    if (const toml::node* points = sweep_.points) {
      complete &= attempt([&] {
        if (!takes_points(*name)) {
          fail(points->source(),
               fmt::format("sweep.points applies to lhs, sobol and saltelli designs, not {}",
                           *name));
        }
        sweep.points = count(*points, "sweep.points", IntegerRange{"points", 1, MAX_DESIGN_POINTS});
      });
    } else if (takes_points(*name)) {
      complete &=
          attempt([&] { fail(sweep_.where, fmt::format("a {} design needs points = N", *name)); });
    }
    if (const toml::node* csv = sweep_.csv) {
      complete &= attempt([&] {
        if (sweep.design != Design::list)
          fail(csv->source(), "sweep.csv applies to list designs only");
        const auto file = csv->value<std::string>();
        if (!file || file->empty()) fail(csv->source(), "sweep.csv: must be a file name");
        fs::path p(*file);
        const std::string named_in = csv->source().path ? *csv->source().path : path;
        if (p.is_relative()) p = fs::path(named_in).parent_path() / p;
        sweep.csv = p.string();
        csv_path_ = sweep.csv;  // checked even if other parts of the file have problems
        csv_where_ = csv->source();
      });
    }
    for (const auto& [k, node] : sweep_.keys) {
      complete &= attempt(
          [&, k = k, node = node] { sweep.keys.push_back(sweep_key(*k, *node, sweep.design)); });
    }
    if (!complete) return;
    if (sweep.csv.empty() && sweep.keys.empty())
      fail(sweep_.where, "[sweep] has no keys: add [sweep.keys]");
    if (!sweep.csv.empty() && !sweep.keys.empty())
      fail(sweep_.where, "a list design takes either csv or [sweep.keys], not both");
    if (sweep.design == Design::list && sweep.csv.empty()) {
      const std::size_t n = sweep.keys.front().values.size();
      for (const auto& sk : sweep.keys) {
        if (sk.values.size() != n) {
          fail(sweep_.where, fmt::format("list design: \"{}\" has {} values but \"{}\" has {}; "
                                         "every key needs one value per point",
                                         sk.key, sk.values.size(), sweep.keys.front().key, n));
        }
      }
    }
    e_.sweep = std::move(sweep);
  }

  SweepKey sweep_key(const toml::key& k, const toml::node& node, Design design) {
    const std::string key(k.str());
    const auto info = parameter(k.source(), key);
    SweepKey sk;
    sk.key = key;
    if (node.is_array()) {
      if (design != Design::grid && design != Design::list) {
        fail(node.source(),
             fmt::format("sweep.keys.\"{}\": a {} design needs {{ min = ..., max = ... }}", key,
                         design_name(design)));
      }
      const auto& arr = *node.as_array();
      if (arr.empty())
        fail(node.source(), fmt::format("sweep.keys.\"{}\": the list of values is empty", key));
      bool all = true;
      for (const auto& v : arr) all &= attempt([&] { sk.values.push_back(number(v, key, info)); });
      if (!all) throw AlreadyRecorded{};
      if (design == Design::grid) {
        std::set<double> distinct(sk.values.begin(), sk.values.end());
        if (distinct.size() != sk.values.size()) {
          fail(node.source(), fmt::format("sweep.keys.\"{}\": a grid value is given twice", key));
        }
      }
      return sk;
    }
    if (!node.is_table()) {
      fail(node.source(),
           fmt::format("sweep.keys.\"{}\": expected a list of values or {{ min = ..., max = ... }}",
                       key));
    }
    if (design == Design::list) {
      fail(node.source(),
           fmt::format("sweep.keys.\"{}\": a list design needs a list of values, one per point",
                       key));
    }
    const auto& t = *node.as_table();
    const toml::node* min = t.get("min");
    const toml::node* max = t.get("max");
    for (auto&& [sub, v] : t) {
      const std::string_view s = sub.str();
      if (s != "min" && s != "max" && s != "steps") {
        fail(sub.source(),
             fmt::format("sweep.keys.\"{}\": unknown field '{}' (valid: min, max{})", key,
                         display_text(s), design == Design::grid ? ", steps" : ""));
      }
      if (s == "steps" && design != Design::grid) {
        fail(sub.source(),
             fmt::format("sweep.keys.\"{}\": steps applies to grid designs only", key));
      }
    }
    if (info.type == agents::ParamType::boolean) {
      if (min != nullptr || max != nullptr) {
        fail(node.source(),
             fmt::format("sweep.keys.\"{}\": a boolean key takes no min/max; use [false, true]{}",
                         key, design == Design::grid ? "" : " or {}"));
      }
      sk.min = 0.0;
      sk.max = 1.0;
      sk.has_range = true;
    } else {
      if (min == nullptr || max == nullptr) {
        fail(node.source(), fmt::format("sweep.keys.\"{}\": needs both min and max", key));
      }
      sk.min = number(*min, key + ".min", info);
      sk.max = number(*max, key + ".max", info);
      if (sk.min > sk.max) {
        fail(min->source(),
             fmt::format("sweep.keys.\"{}\": min = {} is above max = {}", key,
                         agents::format_value(info, sk.min), agents::format_value(info, sk.max)));
      }
      sk.has_range = true;
    }
    if (design == Design::grid) {
      const toml::node* steps = t.get("steps");
      if (steps == nullptr)
        fail(node.source(), fmt::format("sweep.keys.\"{}\": a grid range needs steps", key));
      // min = max takes one step; a range takes at least two (its ends).
      sk.steps =
          count(*steps, "sweep.keys.\"" + key + "\".steps",
                sk.min == sk.max ? IntegerRange{"steps", 1, 1} : IntegerRange{"steps", 2, 100'000});
      sk.values = grid_values(sk.min, sk.max, sk.steps);
      for (double v : sk.values) {
        if (info.type != agents::ParamType::real && v != std::floor(v)) {
          fail(steps->source(),
               fmt::format("sweep.keys.\"{}\": step value {} is not an integer; must be {}", key, v,
                           info.range_text()));
        }
        if (!info.in_range(v)) {
          fail(steps->source(),
               fmt::format("sweep.keys.\"{}\": step value {} is not valid for {} ({})", key, v, key,
                           info.range_text()));
        }
      }
    }
    return sk;
  }

  Experiment& e_;
  bool collect_;
  void sort_problems() {
    std::stable_sort(problems_.begin(), problems_.end(), [](const Problem& a, const Problem& b) {
      return std::tie(a.file, a.line, a.column) < std::tie(b.file, b.line, b.column);
    });
  }

  std::vector<Problem> problems_;
  std::size_t dropped_ = 0;
  std::vector<std::string> files_;
  MergedSweep sweep_;
  std::string csv_path_;
  toml::source_region csv_where_;
  bool softens_in_file_ = false;  ///< a faction of the file being read has softens = true
  std::optional<toml::source_region> weight_where_;    ///< the last faction weight a file set
  std::optional<toml::source_region> factions_where_;  ///< the last [japan.factions] table
};

// --- Exact decimal grids --------------------------------------------------------------------

__extension__ typedef __int128 Wide;  // GCC's 128-bit integer: exact decimal arithmetic

/// A finite double's shortest round-trip decimal as digits * 10^exponent.
struct Decimal {
  Wide digits = 0;
  int exponent = 0;
};

std::optional<Decimal> decimal_of(double v) {
  if (!std::isfinite(v)) return std::nullopt;
  const std::string s =
      fmt::format("{}", v);  // shortest round trip: "0.1", "3", "1e-07", "-2.5e+300"
  Decimal d;
  std::size_t i = s.front() == '-' ? 1 : 0;
  int fraction_digits = 0;
  bool fraction = false;
  for (; i < s.size() && s[i] != 'e'; ++i) {
    if (s[i] == '.') {
      fraction = true;
      continue;
    }
    d.digits = d.digits * 10 + (s[i] - '0');
    if (fraction) ++fraction_digits;
  }
  int exponent = 0;
  if (i < s.size()) {
    std::size_t j = i + 1;
    if (j < s.size() && s[j] == '+') ++j;
    const auto [end, ec] = std::from_chars(s.data() + j, s.data() + s.size(), exponent);
    if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  }
  d.exponent = exponent - fraction_digits;
  if (s.front() == '-') d.digits = -d.digits;
  return d;
}

std::string int128_text(Wide v) {
  if (v == 0) return "0";
  const bool negative = v < 0;
  std::string out;
  for (; v != 0; v /= 10)
    out.insert(out.begin(),
               static_cast<char>('0' + static_cast<int>(negative ? -(v % 10) : v % 10)));
  return negative ? "-" + out : out;
}

constexpr Wide LIMIT = static_cast<Wide>(1) << 120;

}  // namespace

std::vector<double> grid_values(double min, double max, std::uint64_t steps) {
  std::vector<double> values(steps, min);
  if (steps < 2) return values;
  values.back() = max;
  const auto m = static_cast<Wide>(steps - 1);
  const auto a = decimal_of(min);
  const auto b = decimal_of(max);
  const auto fits = [](Wide x) { return x < LIMIT / 10 && x > -LIMIT / 10; };
  bool exact = a && b;
  Wide lo = 0, step = 0;
  int exponent = 0;
  if (exact) {
    // min and max as integers lo, hi times 10^exponent.
    exponent = std::min(a->exponent, b->exponent);
    lo = a->digits;
    Wide hi = b->digits;
    for (int e = a->exponent; e > exponent && exact; --e) exact = fits(lo) && (lo *= 10, true);
    for (int e = b->exponent; e > exponent && exact; --e) exact = fits(hi) && (hi *= 10, true);
    // The step is a decimal when (hi - lo) * 10^k is a multiple of steps - 1 for some k.
    Wide span = hi - lo;
    bool found = false;
    for (int k = 0; exact && k <= 40; ++k) {
      if (span % m == 0) {
        step = span / m;
        found = true;
        break;
      }
      exact = fits(span) && fits(lo);
      span *= 10;
      lo *= 10;
      --exponent;
    }
    exact = exact && found;
  }
  for (std::uint64_t i = 1; i + 1 < steps; ++i) {
    if (exact) {
      const std::string text =
          int128_text(lo + step * static_cast<Wide>(i)) + "e" + std::to_string(exponent);
      values[i] = std::strtod(text.c_str(), nullptr);
    } else {
      values[i] = std::clamp(
          min + (max - min) * static_cast<double>(i) / static_cast<double>(steps - 1), min, max);
    }
  }
  return values;
}

namespace {

// --- The extends chain ----------------------------------------------------------------------

struct ChainFile {
  std::string path;
  toml::table table;
};

/// Experiment text read as the first file of a chain (load_experiment_text): its name in
/// messages and the directory its `extends` is relative to.
struct FirstText {
  const std::string& text;
  const std::string& base_dir;
};

/// The files of an extends chain, the named file first (or `first`'s text, named `path`). Throws
/// ConfigError (a missing or unreadable parent is reported at the `extends` that names it).
std::vector<ChainFile> load_chain(const std::string& path, const FirstText* first = nullptr) {
  std::vector<ChainFile> chain;
  std::vector<std::string> ids;
  std::string next = path;
  const toml::node* named_by = nullptr;  // the `extends` that named `next`
  if (first != nullptr) {
    chain.push_back({path, Loader::parse(first->text, path)});
    const toml::node* parent = chain.back().table.get("extends");
    if (parent == nullptr) return chain;
    const auto name = parent->value<std::string>();
    if (!name || name->empty()) Loader::fail(parent->source(), "extends: must be a file name");
    fs::path p(*name);
    if (p.is_relative()) p = fs::path(first->base_dir) / p;
    std::error_code ec;
    // A loop of symbolic links: read_regular_file says so.
    if (!fs::exists(p, ec) && !output::symlink_loop(p.string())) {
      Loader::fail(parent->source(),
                   fmt::format("extends = \"{}\": no such file ({})", display_text(*name),
                               display_text(p.string(), 200)));
    }
    ids.push_back(path);
    next = p.string();
    named_by = parent;
  }
  for (;;) {
    std::error_code ec;
    const fs::path canonical = fs::weakly_canonical(next, ec);
    const std::string id = ec ? next : canonical.string();
    if (std::find(ids.begin(), ids.end(), id) != ids.end()) {
      std::string cycle;
      for (const auto& c : ids) cycle += c + " -> ";
      throw ConfigError(fmt::format("{}: cyclic extends: {}{}", ids.back(), cycle, id));
    }
    if (named_by != nullptr && chain.size() >= MAX_EXTENDS_DEPTH) {
      Loader::fail(named_by->source(),
                   fmt::format("extends: the chain of extended files is longer than {} files",
                               MAX_EXTENDS_DEPTH));
    }
    ids.push_back(id);
    std::string text, problem;
    if (!read_regular_file(next, MAX_EXPERIMENT_FILE_BYTES, "experiment file", text, problem)) {
      if (named_by == nullptr) throw ConfigError(fmt::format("{}: {}", next, problem));
      Loader::fail(named_by->source(),
                   fmt::format("extends = \"{}\": {} ({})",
                               display_text(named_by->value<std::string>().value_or("")), problem,
                               display_text(next, 200)));
    }
    chain.push_back({next, Loader::parse(text, next)});
    const toml::node* parent = chain.back().table.get("extends");
    if (parent == nullptr) return chain;
    const auto name = parent->value<std::string>();
    if (!name || name->empty()) Loader::fail(parent->source(), "extends: must be a file name");
    fs::path p(*name);
    if (p.is_relative()) p = fs::path(next).parent_path() / p;
    // A loop of symbolic links: read_regular_file says so.
    if (!fs::exists(p, ec) && !output::symlink_loop(p.string())) {
      Loader::fail(parent->source(),
                   fmt::format("extends = \"{}\": no such file ({})", display_text(*name),
                               display_text(p.string(), 200)));
    }
    next = p.string();
    named_by = parent;
  }
}

// --- CSV files of design points (libcsv) -----------------------------------------------------

/// What reading a CSV file of design points found: every problem (each with its file, line and
/// column, in reading order), at most MAX_PROBLEMS of them, and how many more there were.
struct CsvCheck {
  std::vector<LocatedError> problems;
  std::size_t more = 0;
};

/// Collects the rows of a CSV file of design points. libcsv calls these callbacks from C code,
/// through which no exception may pass: problems are recorded and parsing goes on with the next
/// value (a bad header stops it: the values cannot be read without their keys).
struct CsvPoints {
  Sweep* sweep = nullptr;
  CsvCheck* check = nullptr;
  std::size_t line = 1;  ///< position of the byte being fed to the parser
  std::size_t column = 1;
  bool pending_start = true;  ///< the next byte (other than a line end) starts a value
  std::size_t start_line = 1, start_column = 1;  ///< where the value being read started
  struct Cell {
    std::string text;
    std::size_t line, column;
  };
  std::vector<Cell> row;
  bool header_done = false;
  bool header_failed = false;
  const agents::Scenario* base = nullptr;  ///< the experiment's scenario (its factions name keys)
  std::vector<agents::ParamInfo> infos;

  static void on_value(void* data, std::size_t len, void* self) {
    auto& p = *static_cast<CsvPoints*>(self);
    p.row.push_back(
        {data != nullptr ? std::string(static_cast<const char*>(data), len) : std::string(),
         p.start_line, p.start_column});
    p.pending_start = true;
  }

  static void on_row(int, void* self) {
    auto& p = *static_cast<CsvPoints*>(self);
    if (!p.header_failed) {
      try {
        p.take_row();
      } catch (const std::exception& err) {
        p.add(p.row.empty() ? p.line : p.row.front().line, 1, err.what());
      }
    }
    p.row.clear();
    p.pending_start = true;
  }

  void add(std::size_t at_line, std::size_t at_column, const std::string& what) {
    if (check->problems.size() >= MAX_PROBLEMS) {
      ++check->more;
      return;
    }
    check->problems.emplace_back(fmt::format("{}:{}:{}: {}", sweep->csv, at_line, at_column, what),
                                 sweep->csv, at_line, at_column);
  }

  void take_row() {
    if (std::all_of(row.begin(), row.end(), [](const Cell& c) {
          return c.text.find_first_not_of(" \t") == std::string::npos;
        })) {
      return;  // a row of empty cells (Excel writes them for formatted empty rows)
    }
    if (!header_done) {
      header();
      header_done = true;
      return;
    }
    if (sweep->keys.front().values.size() >= MAX_DESIGN_POINTS) {
      add(row.front().line, 1, fmt::format("more than {} design points", MAX_DESIGN_POINTS));
      header_failed = true;  // stop here: the plan is too big whatever follows
      return;
    }
    if (row.size() != infos.size()) {
      add(row.front().line, 1, fmt::format("{} values for {} keys", row.size(), infos.size()));
      return;
    }
    std::vector<double> values(row.size());
    bool ok = true;
    for (std::size_t c = 0; c < row.size(); ++c) {
      try {
        values[c] = parse_value(infos[c], row[c].text);
      } catch (const ConfigError& err) {
        add(row[c].line, row[c].column, err.what());
        ok = false;
      }
    }
    if (ok) {
      for (std::size_t c = 0; c < row.size(); ++c) sweep->keys[c].values.push_back(values[c]);
    }
  }

  void header() {
    std::set<std::string> seen;
    for (std::size_t c = 0; c < row.size(); ++c) {
      const std::string key(trimmed(row[c].text));
      const std::size_t at_line = row[c].line, at_column = row[c].column;
      if (c == 0 && (key.empty() || key.starts_with("Unnamed: "))) {
        add(at_line, at_column,
            fmt::format(
                "the first column has no key ('{}'): a row-name or index column? Write the file "
                "without it (pandas: df.to_csv(path, index=False); R: write.csv(df, path, "
                "row.names = FALSE))",
                display_text(key)));
        header_failed = true;
        continue;
      }
      const auto info = agents::find_parameter(*base, key);
      if (!info) {
        const bool separated = key.find_first_of(";\t") != std::string::npos;
        add(at_line, at_column,
            fmt::format(
                "unknown key '{}' in the header{}{}", display_text(key), did_you_mean(key, *base),
                separated ? "; values must be separated by commas, not semicolons or tabs" : ""));
        header_failed = true;
        continue;
      }
      if (!seen.insert(key).second) {
        add(at_line, at_column, fmt::format("key '{}' appears twice in the header", key));
        header_failed = true;
        continue;
      }
      infos.push_back(*info);
      sweep->keys.push_back(SweepKey{key, {}, 0, 0, 0, false});
    }
  }
};

/// Reads sweep.csv into sweep.keys and returns every problem found. `named_at`, when given, is
/// where the experiment names the file: a file that cannot be read is reported there.
CsvCheck read_csv(Sweep& sweep, const agents::Scenario& base, const toml::source_region* named_at) {
  CsvCheck check;
  const auto whole_file = [&](const std::string& what) {
    check.problems.emplace_back(fmt::format("{}: {}", sweep.csv, what), sweep.csv, 0, 0);
    return check;
  };
  std::string text, problem;
  if (!read_regular_file(sweep.csv, MAX_CSV_FILE_BYTES, "CSV file of design points", text,
                         problem)) {
    if (named_at == nullptr) return whole_file(problem);
    const std::string file = named_at->path ? *named_at->path : std::string("?");
    check.problems.emplace_back(
        fmt::format("{}:{}:{}: sweep.csv: {}: {}", file, named_at->begin.line,
                    named_at->begin.column, sweep.csv, problem),
        file, named_at->begin.line, named_at->begin.column);
    return check;
  }
  if (text.starts_with("\xFF\xFE") || text.starts_with("\xFE\xFF")) {
    return whole_file("the file is UTF-16; save it as CSV in UTF-8 (Excel: \"CSV UTF-8\")");
  }
  std::string_view rest(text);
  if (rest.starts_with("\xEF\xBB\xBF"))
    rest.remove_prefix(3);  // the UTF-8 byte-order mark Excel writes
  csv_parser parser{};
  if (csv_init(&parser, CSV_STRICT | CSV_STRICT_FINI) != 0)
    return whole_file("cannot start the CSV parser");
  struct Freer {
    csv_parser* p;
    ~Freer() { csv_free(p); }
  } freer{&parser};
  CsvPoints points;
  points.sweep = &sweep;
  points.check = &check;
  points.base = &base;
  // One byte at a time, so that every value and error knows its line and column.
  for (std::size_t i = 0; i < rest.size() && !points.header_failed; ++i) {
    const char c = rest[i];
    if (points.pending_start && c != '\n' && c != '\r') {
      points.start_line = points.line;
      points.start_column = points.column;
      points.pending_start = false;
    }
    if (csv_parse(&parser, &rest[i], 1, CsvPoints::on_value, CsvPoints::on_row, &points) != 1) {
      points.add(points.line, points.column,
                 fmt::format("not valid CSV ({}): a quote inside an unquoted value, or text "
                             "after a closing quote",
                             csv_strerror(csv_error(&parser))));
      return check;
    }
    if (c == '\n') {
      ++points.line;
      points.column = 1;
    } else {
      ++points.column;
    }
  }
  if (!points.header_failed &&
      csv_fini(&parser, CsvPoints::on_value, CsvPoints::on_row, &points) != 0) {
    points.add(points.start_line, points.start_column,
               "not valid CSV: a quoted value is not closed");
  }
  if (check.problems.empty() && (sweep.keys.empty() || sweep.keys.front().values.empty())) {
    return whole_file("no design points (a header row of keys, then one row per point)");
  }
  return check;
}

/// Reads sweep.csv into sweep.keys; throws its first problem.
void load_csv(Sweep& sweep, const agents::Scenario& base) {
  CsvCheck check = read_csv(sweep, base, nullptr);
  if (!check.problems.empty()) throw check.problems.front();
}

void check_sweep_keys(const Experiment& e, const std::string& path) {
  std::set<std::string> keys;
  for (const auto& sk : e.sweep.keys) {
    if (!keys.insert(sk.key).second)
      throw ConfigError(fmt::format("{}: sweep key '{}' is given twice", path, sk.key));
  }
}

/// Loads `path` and its chain into `e` with `loader` (collecting or not); with `first`, `path`
/// names that text instead of a file.
void load_into(Experiment& e, Loader& loader, const std::string& path,
               const FirstText* first = nullptr) {
  e.source = path;
  std::vector<ChainFile> chain;
  if (!loader.attempt([&] { chain = load_chain(path, first); })) return;
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) loader.read(it->table, it->path);
  loader.check_faction_weights();
  loader.resolve_sweep(path);
  if (!loader.csv_path().empty()) {
    // The CSV file is checked even when the experiment file has other problems: validate lists all.
    Sweep points;
    points.csv = loader.csv_path();
    CsvCheck check = read_csv(points, e.base, &loader.csv_where());
    for (const auto& p : check.problems) loader.record(p);
    loader.add_dropped(check.more);
    if (check.problems.empty() && e.sweep.design == Design::list && e.sweep.csv == points.csv) {
      e.sweep.keys = std::move(points.keys);
    }
  }
  if (!loader.ok()) return;
  loader.attempt([&] { check_sweep_keys(e, path); });
}

}  // namespace

const std::vector<std::string>& scenario_sections() {
  static const std::vector<std::string> sections = [] {
    std::vector<std::string> out;
    for (const auto& p : agents::parameters()) {
      const std::string top = p.section.substr(0, p.section.find('.'));
      if (std::find(out.begin(), out.end(), top) == out.end()) out.push_back(top);
    }
    return out;
  }();
  return sections;
}

Experiment load_experiment(const std::string& path) {
  // Problems are collected and the first in line order thrown, so that a run reports the
  // first problem `wedge validate` lists.
  Experiment e;
  Loader loader(e, true);
  load_into(e, loader, path);
  if (!loader.ok()) throw ConfigError(loader.problem_lines().front());
  return e;
}

Experiment load_experiment_text(const std::string& text, const std::string& name,
                                const std::string& base_dir) {
  Experiment e;
  Loader loader(e, true);
  const FirstText first{text, base_dir};
  load_into(e, loader, name, &first);
  if (!loader.ok()) throw ConfigError(loader.problem_lines().front());
  return e;
}

std::vector<std::string> experiment_problems(const std::string& path,
                                             const std::vector<std::string>& assignments) {
  Experiment e;
  Loader loader(e, true);
  load_into(e, loader, path);
  loader.attempt([&] { check_repeated_sets(assignments); });
  for (const auto& a : assignments) loader.attempt([&] { apply_overrides(e, {a}); });
  if (loader.ok()) loader.attempt([&] { resolve_design(e); });
  return loader.problem_lines();
}

Experiment parse_experiment(const std::string& text, const std::string& name, bool read_files) {
  Experiment e;
  e.source = name;
  Loader loader(e, false);
  const toml::table table = Loader::parse(text, name);
  if (const toml::node* extends = table.get("extends"))
    Loader::fail(extends->source(), "a stored experiment cannot use extends");
  loader.read(table, name);
  loader.check_faction_weights();
  loader.resolve_sweep(name);
  if (e.sweep.design == Design::list && !e.sweep.csv.empty()) {
    if (!read_files) {
      throw ConfigError(fmt::format(
          "{}: the experiment names a CSV file (sweep.csv = \"{}\"); a stored experiment "
          "holds its points itself, and reading it never opens another file",
          name, display_text(e.sweep.csv, 200)));
    }
    load_csv(e.sweep, e.base);
  }
  check_sweep_keys(e, name);
  return e;
}

double parse_value(const agents::ParamInfo& info, std::string_view raw) {
  const std::string_view text = trimmed(raw);
  const std::string shown = text.empty() ? std::string("an empty value") : display_text(text, 40);
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (info.type == agents::ParamType::boolean) {
    if (lower == "true" || lower == "1") return 1.0;
    if (lower == "false" || lower == "0") return 0.0;
    throw ConfigError(fmt::format("{} = '{}': must be true or false", info.key, shown));
  }
  const std::string_view unsigned_text =
      text.starts_with('+') ? text.substr(1) : text;  // TOML allows +3
  const auto parsed = unsigned_text.starts_with('-') && text.starts_with('+')
                          ? std::nullopt
                          : decimal(unsigned_text);
  if (!parsed)
    throw ConfigError(
        fmt::format("{} = '{}': not a number; must be {}", info.key, shown, info.range_text()));
  const double v = *parsed;
  if (info.type == agents::ParamType::integer) {
    const std::string_view digits =
        text.front() == '-' || text.front() == '+' ? text.substr(1) : text;
    const bool literal = !digits.empty() && std::all_of(digits.begin(), digits.end(), [](char c) {
      return c >= '0' && c <= '9';
    });
    if (!literal)
      throw ConfigError(
          fmt::format("{}: {} is not an integer; must be {}", info.key, shown, info.range_text()));
  }
  if (!info.in_range(v))
    throw ConfigError(fmt::format("{} = {}: must be {}", info.key, shown, valid_text(info, v)));
  return v;
}

void check_repeated_sets(const std::vector<std::string>& assignments, std::string_view option) {
  std::map<std::string, std::string, std::less<>> seen;
  for (const auto& a : assignments) {
    const auto eq = a.find('=');
    if (eq == std::string::npos) continue;  // reported by apply_overrides
    const std::string key(trimmed(std::string_view(a).substr(0, eq)));
    const auto [it, fresh] = seen.emplace(key, a);
    if (!fresh) {
      throw ConfigError(fmt::format("{} {}: '{}' is set twice (also {} {}); give each key once",
                                    option, display_text(a), display_text(key), option,
                                    display_text(it->second)));
    }
  }
}

void apply_overrides(Experiment& e, const std::vector<std::string>& assignments,
                     std::string_view option) {
  for (const auto& a : assignments) {
    const auto eq = a.find('=');
    std::string_view key = std::string_view(a).substr(0, eq);
    while (!key.empty() && key.front() == ' ') key.remove_prefix(1);
    while (!key.empty() && key.back() == ' ') key.remove_suffix(1);
    const std::string_view value =
        eq == std::string::npos ? std::string_view() : std::string_view(a).substr(eq + 1);
    if (eq == std::string::npos || key.empty() ||
        value.find_first_not_of(' ') == std::string_view::npos) {
      throw ConfigError(fmt::format("{} '{}': expected key=value, e.g. dulles.tact=0.9", option,
                                    display_text(a)));
    }
    for (const auto& sk : e.sweep.keys) {
      if (sk.key == key) {
        throw ConfigError(
            fmt::format("{} {}: '{}' is swept by the experiment; remove it from "
                        "[sweep.keys] to fix its value",
                        option, display_text(a), sk.key));
      }
    }
    const auto info = agents::find_parameter(e.base, key);
    if (!info && key.starts_with("japan.factions.")) {
      // name, softens and remove are faction attributes of files, not parameters: say so rather
      // than suggest the nearest parameter ("side" for "softens").
      const auto dot = key.rfind('.');
      const std::string_view attribute = key.substr(dot + 1);
      const std::string_view section = key.substr(0, dot);
      if (dot > std::string_view("japan.factions").size() &&
          (attribute == "softens" || attribute == "name" || attribute == "remove")) {
        throw ConfigError(fmt::format(
            "{} {}: '{}' is set in experiment files only ([{}] {} = ...); overrides take the "
            "parameters `wedge params` lists",
            option, display_text(a), attribute, display_text(section), attribute));
      }
    }
    if (!info) {
      throw ConfigError(
          fmt::format("unknown parameter '{}'{}", display_text(key), did_you_mean(key, e.base)));
    }
    info->set(e.base, parse_value(*info, value));
  }
}

std::string to_toml(const Experiment& e) {
  std::string out;
  if (!e.description.empty()) {
    toml::table t;
    t.insert("description", e.description);
    std::ostringstream os;
    os << t;
    out += os.str() + "\n";
  }
  out += fmt::format("[run]\nruns = {}\nseed = {}\ncrn = {}\nmax_runs = {}\n", e.run.runs,
                     e.run.seed, e.run.crn, e.run.max_runs);
  if (e.run.precision) out += fmt::format("precision = {}\n", *e.run.precision);
  const auto params = agents::parameters(e.base);
  const auto real = [](const agents::ParamInfo& p, double v) {
    std::string text = agents::format_value(p, v);
    if (p.type == agents::ParamType::real && text.find_first_of(".eE") == std::string::npos)
      text += ".0";
    return text;
  };
  std::string section;
  for (const auto& p : params) {
    if (p.section.starts_with("japan.factions.")) continue;
    if (p.section != section) {
      section = p.section;
      out += fmt::format("\n[{}]\n", section);
    }
    out += fmt::format("{} = {}\n", p.key.substr(section.size() + 1), real(p, p.get(e.base)));
  }
  // The factions whole, in their order, so that added, removed and changed ones round-trip.
  out += "\n[japan.factions]\nreplace = true\n";
  const auto& labels = e.base.japan.labels;
  for (std::size_t i = 0; i < e.base.japan.factions.count; ++i) {
    out += fmt::format("\n[japan.factions.{}]\n", labels.id_of(i));
    if (!labels.name_of(i).empty()) {
      toml::table t;
      t.insert("name", std::string(labels.name_of(i)));
      std::ostringstream os;
      os << t;
      out += os.str() + "\n";
    }
    for (std::string_view field : agents::FACTION_FIELDS) {
      const auto p = agents::require_parameter(
          e.base, fmt::format("japan.factions.{}.{}", labels.id_of(i), field));
      out += fmt::format("{} = {}\n", field, real(p, p.get(e.base)));
    }
    if (e.base.japan.factions.softens == static_cast<int>(i)) out += "softens = true\n";
  }
  if (e.sweep.design != Design::single) {
    out += fmt::format("\n[sweep]\ndesign = \"{}\"\n", design_name(e.sweep.design));
    if (e.sweep.points > 0) out += fmt::format("points = {}\n", e.sweep.points);
    out += "\n[sweep.keys]\n";
    for (const auto& sk : e.sweep.keys) {
      const auto info = agents::require_parameter(e.base, sk.key);
      auto val = [&info](double v) {
        std::string t = agents::format_value(info, v);
        if (info.type == agents::ParamType::real && t.find_first_of(".eE") == std::string::npos)
          t += ".0";
        return t;
      };
      if (sk.steps > 0) {
        out += fmt::format("\"{}\" = {{ min = {}, max = {}, steps = {} }}\n", sk.key, val(sk.min),
                           val(sk.max), sk.steps);
      } else if (sk.has_range && e.sweep.design != Design::grid && e.sweep.design != Design::list) {
        if (info.type == agents::ParamType::boolean) {
          out += fmt::format("\"{}\" = {{}}\n", sk.key);
        } else {
          out +=
              fmt::format("\"{}\" = {{ min = {}, max = {} }}\n", sk.key, val(sk.min), val(sk.max));
        }
      } else {
        std::string list;
        for (double v : sk.values) list += (list.empty() ? "" : ", ") + val(v);
        out += fmt::format("\"{}\" = [{}]\n", sk.key, list);
      }
    }
  }
  return out;
}

namespace {

/// A TOML value as the user would write it: numbers in their shortest round-trip form (toml++
/// prints 0.3 as 0.29999999999999999), arrays element by element.
std::string value_text(const toml::node& node) {
  if (const auto* d = node.as_floating_point()) {
    std::string text = fmt::format("{}", d->get());
    if (std::isfinite(d->get()) && text.find_first_of(".e") == std::string::npos) text += ".0";
    return text;
  }
  if (const auto* a = node.as_array()) {
    std::string out = "[";
    for (std::size_t i = 0; i < a->size(); ++i) out += (i ? ", " : "") + value_text(*a->get(i));
    return out + "]";
  }
  std::ostringstream os;
  node.visit([&os](const auto& n) { os << n; });
  return os.str();
}

/// Every value of `table` under its dotted key (keys holding '.', a space or a quote quoted).
void flatten(const toml::table& table, const std::string& prefix,
             std::map<std::string, std::string>& out) {
  for (auto&& [k, v] : table) {
    std::string name(k.str());
    if (name.empty() || name.find_first_of(". \"'") != std::string::npos) name = "\"" + name + "\"";
    const std::string key = prefix.empty() ? name : prefix + "." + name;
    if (const auto* sub = v.as_table()) {
      flatten(*sub, key, out);
      continue;
    }
    out[key] = value_text(v);
  }
}

std::optional<std::map<std::string, std::string>> flat_toml(const std::string& text) {
  std::string ascii = text;
  for (char& c : ascii) {
    if (static_cast<unsigned char>(c) >= 0x80) c = 'x';
  }
  try {
    std::map<std::string, std::string> out;
    flatten(toml::parse(ascii), "", out);
    return out;
  } catch (const toml::parse_error&) {
    return std::nullopt;
  }
}

}  // namespace

std::vector<std::string> experiment_differences(const std::string& a, const std::string& b,
                                                std::string_view a_name, std::string_view b_name) {
  const auto fa = flat_toml(a);
  const auto fb = flat_toml(b);
  if (!fa || !fb) return {};
  std::set<std::string> keys;
  for (const auto& [k, v] : *fa) keys.insert(k);
  for (const auto& [k, v] : *fb) keys.insert(k);
  std::vector<std::string> out;
  for (const auto& k : keys) {
    const auto ia = fa->find(k);
    const auto ib = fb->find(k);
    const std::string va = ia == fa->end() ? std::string("absent") : ia->second;
    const std::string vb = ib == fb->end() ? std::string("absent") : ib->second;
    if (va != vb) out.push_back(fmt::format("{}: {} in {}, {} in {}", k, va, a_name, vb, b_name));
  }
  return out;
}

std::string experiment_differences_text(const std::vector<std::string>& differences,
                                        std::size_t shown) {
  if (differences.empty()) return {};
  std::string out = "; the keys that differ: ";
  for (std::size_t i = 0; i < differences.size() && i < shown; ++i)
    out += (i ? "; " : "") + differences[i];
  if (differences.size() > shown) out += fmt::format(" (and {} more)", differences.size() - shown);
  return out;
}

}  // namespace wedge::experiments
