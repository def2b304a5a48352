#!/usr/bin/python3
"""The layering check (ctest "layering: ..."): every #include in the sources follows the table of
allowed edges in docs/design.md ("Allowed includes").

  check_includes.py SOURCE_DIR

The table maps a directory (the longest matching one applies) to the project modules whose headers
its files may include and the libraries they may not. A project module is a top-level directory
(engine, agents, output, experiments, python, tests, benchmarks); `generated` is the build's
generated headers (wedge/version.hpp). Fails, naming file and line, on
  - an include of a project header outside the allowed edges,
  - a project header included with <...>,
  - a quoted include that names no file (relative to the file, or to the source root),
  - an include of a library the directory may not use,
  - a source file under no row of the table.
"""
import re
import sys
from pathlib import Path

LIBRARIES = {  # name in the table -> include prefixes
    "toml++": ("toml++/",),
    "HDF5": ("hdf5.h", "H5"),
    "CLI11": ("CLI/",),
    "MPI": ("mpi.h",),
    "pybind11": ("pybind11/",),
}
MODULES = ("engine", "agents", "output", "experiments", "python", "tests", "benchmarks")
SOURCE_DIRS = MODULES
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def read_table(design):
    """{directory: (allowed modules, forbidden libraries)} from docs/design.md."""
    text = design.read_text()
    start = text.find("### Allowed includes")
    if start < 0:
        sys.exit(f"{design}: no section '### Allowed includes'")
    rows = {}
    for line in text[start:].splitlines()[1:]:
        if line.startswith("#"):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")] if line.startswith("|") else []
        if len(cells) != 3 or not cells[0].startswith("`"):
            continue
        directory = cells[0].strip("`")
        allowed = {m.strip() for m in cells[1].split(",") if m.strip() and m.strip() != "nothing"}
        forbidden = {m.strip() for m in cells[2].split(",") if m.strip()}
        for name in allowed - set(MODULES) - {"generated"}:
            sys.exit(f"{design}: row {directory}: unknown module '{name}'")
        for name in forbidden - set(LIBRARIES):
            sys.exit(f"{design}: row {directory}: unknown library '{name}' (known: {', '.join(LIBRARIES)})")
        rows[directory] = (allowed, forbidden)
    if not rows:
        sys.exit(f"{design}: the 'Allowed includes' table is empty")
    return rows


def row_for(rel, rows):
    best = None
    for directory in rows:
        if rel.startswith(directory) and (best is None or len(directory) > len(best)):
            best = directory
    return best


def module_of(path, root):
    rel = path.relative_to(root).as_posix()
    return rel.split("/", 1)[0]


def main():
    root = Path(sys.argv[1]).resolve()
    rows = read_table(root / "docs" / "design.md")
    errors = []
    files = 0
    edges = set()
    for top in SOURCE_DIRS:
        for path in sorted((root / top).rglob("*")):
            if path.suffix not in (".cpp", ".hpp", ".h") or "__pycache__" in path.parts:
                continue
            rel = path.relative_to(root).as_posix()
            directory = row_for(rel, rows)
            if directory is None:
                errors.append(f"{rel}: under no row of docs/design.md's 'Allowed includes' table")
                continue
            allowed, forbidden = rows[directory]
            files += 1
            for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
                m = INCLUDE.match(line)
                if not m:
                    continue
                kind, name = m.groups()
                where = f"{rel}:{number}: #include {kind}{name}{'>' if kind == '<' else kind}"
                if kind == "<":
                    if name.split("/", 1)[0] in MODULES or name.startswith("wedge/"):
                        errors.append(f"{where}: a project header, include it with quotes")
                    for library in forbidden:
                        if name.startswith(LIBRARIES[library]):
                            errors.append(f"{where}: {directory} may not use {library} (docs/design.md)")
                    continue
                if name.startswith("wedge/"):
                    target_module = "generated"
                else:
                    local = (path.parent / name).resolve()
                    from_root = (root / name).resolve()
                    target = local if local.is_file() else from_root if from_root.is_file() else None
                    if target is None or root not in target.parents:
                        errors.append(f"{where}: names no file of the project")
                        continue
                    target_module = module_of(target, root)
                if target_module not in allowed:
                    errors.append(f"{where}: {directory} may include {', '.join(sorted(allowed)) or 'nothing'}"
                                  f", not {target_module} (docs/design.md, 'Allowed includes')")
                else:
                    edges.add((directory, target_module))
    if errors:
        print("\n".join(errors))
        print(f"layering: {len(errors)} violation(s) in {files} files")
        return 1
    print(f"layering: {files} files, every #include within the allowed edges "
          f"({len(edges)} directory -> module edges in use)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
