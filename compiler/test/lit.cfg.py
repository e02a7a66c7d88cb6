# lit configuration of the compiler's FileCheck tests: each pass on its own
# through ember-opt, each stage through ember-compile, and reduced tests of
# the MLIR 19 defects the pipeline works around. The build writes
# lit.site.cfg.py (tool folders) into compiler/test of the build tree.
import os

import lit.formats

config.name = "ember-compiler"
config.test_format = lit.formats.ShTest(execute_external=True)
config.suffixes = [".mlir"]
config.excludes = ["lit.cfg.py", "lit.site.cfg.py.in"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = config.ember_lit_exec_dir
config.environment["PATH"] = os.pathsep.join(config.ember_tool_dirs + [config.environment.get("PATH", "/usr/bin:/bin")])
config.excludes = ["lit.cfg.py", "lit.site.cfg.py.in", "Inputs"]
