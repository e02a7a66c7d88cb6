# lit configuration of the ember dialect's FileCheck tests. The build writes
# lit.site.cfg.py (tool folders) into tests/ir/lit of the build tree.
import os

import lit.formats

config.name = "ember-ir"
config.test_format = lit.formats.ShTest(execute_external=True)
config.suffixes = [".mlir"]
config.excludes = ["lit.cfg.py", "lit.site.cfg.py.in"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = config.ember_lit_exec_dir
config.environment["PATH"] = os.pathsep.join(config.ember_tool_dirs + [config.environment.get("PATH", "/usr/bin:/bin")])
