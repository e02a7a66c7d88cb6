#!/usr/bin/python3
"""doc_blocks - runs the code blocks of a Markdown page, so that the docs cannot rot.

    doc_blocks.py run PAGE --build BUILD    the ```python and ```sh blocks, in order
    doc_blocks.py cpp PAGE OUT.cpp          the ```cpp blocks as one C++ program

`run` executes the Python blocks in one namespace (as a reader pasting them
into one session would) and the shell blocks with bash, all in a fresh
temporary directory holding a `build` link to BUILD (so `build/...` paths
work and files the page writes go nowhere else); the first failing block is
reported with its line in the page. `cpp` writes a program whose file scope
holds the blocks that are #include lines or type definitions, and whose
main() runs the other blocks in order; CMake builds and runs it.
"""

import os
import pathlib
import re
import subprocess
import sys
import tempfile
import traceback

FENCE = re.compile(r"^```(\w+)\n(.*?)^```$", re.S | re.M)


def blocks(page):
    """(language, code, line in the page) of each fenced block."""
    text = pathlib.Path(page).read_text()
    for m in FENCE.finditer(text):
        yield m.group(1), m.group(2), text.count("\n", 0, m.start()) + 2


def run(page, build):
    namespace = {"__name__": "__tutorial__"}
    ran, page_blocks = 0, list(blocks(page))
    with tempfile.TemporaryDirectory(prefix="ember-docs-") as work:
        os.symlink(os.path.abspath(build), os.path.join(work, "build"))
        os.chdir(work)
        sys.path.insert(0, os.path.join(os.path.abspath(build), "python"))
        for language, code, line in page_blocks:
            if language == "python":
                try:
                    # Padded so that tracebacks and ember's errors name the page's own lines.
                    exec(compile("\n" * (line - 1) + code, page, "exec"), namespace)
                except Exception:
                    traceback.print_exc()
                    sys.exit(f"{page}:{line}: this Python block failed")
            elif language == "sh":
                done = subprocess.run(["bash", "-euo", "pipefail", "-c", code])
                if done.returncode != 0:
                    sys.exit(f"{page}:{line}: this shell block failed ({done.returncode})")
            else:
                continue
            ran += 1
    if ran == 0:
        sys.exit(f"{page}: no Python or shell blocks ran")
    print(f"{page}: {ran} blocks ran")


def cpp(page, out):
    head, body = ["#include <iostream>"], []
    for language, code, line in blocks(page):
        if language != "cpp":
            continue
        first = code.lstrip().split("\n", 1)[0]
        at_file_scope = first.startswith(("#include", "using namespace", "struct ", "class "))
        # #line: compile errors, and ember's errors (Loc), name the page's own lines.
        (head if at_file_scope else body).append(f'#line {line} "{pathlib.Path(page).name}"\n{code}')
    if not body:
        sys.exit(f"{page}: no C++ blocks")
    program = "\n".join(head) + "\nint main() {\n" + "\n".join(body) + "  return 0;\n}\n"
    path = pathlib.Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text() != program:
        path.write_text(program)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "run" and sys.argv[3] == "--build":
        run(sys.argv[2], sys.argv[4])
    elif len(sys.argv) == 4 and sys.argv[1] == "cpp":
        cpp(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
